// Every way the agent refuses a DUKPT initial key item, each with its code, and that a refused
// command stores nothing of itself (the key store and the counters are as before).
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { unwrapItems } from '../../agent/keys/installKeys.ts';
import { openSecureStore } from '../../agent/keys/secureStore.ts';
import { deliveryTr31 } from '../../schemas/keyCrypto/tr31Delivery.ts';
import { deviceBlock, initialKeyIdBlock } from '../../schemas/keyCrypto/tr31.ts';
import type { KeyInstallItem } from '../../schemas/keys.ts';
import { installRefusal as refusal } from '../agent/helpers.ts';
import { DEV, ikItem, install, kek, published, reopen, terminalWithTmk, TMK_ID } from './dukptAgentFixtures.ts';

const h = (s: string) => Buffer.from(s, 'hex');

function setup() {
  const t = terminalWithTmk();
  const store = openSecureStore(t.dir);
  const attempt = (items: KeyInstallItem[]) => refusal(() => unwrapItems(items, { deviceId: DEV, kek, store }));
  return { ...t, store, attempt };
}

describe('agent DUKPT refusals', () => {
  it('refuses a block that does not parse, an item without its dukpt info or not in format tr31, and a malformed initial KSN: rejected bad_block', () => {
    const { tmk, attempt } = setup();
    expect(attempt([ikItem('aes128', tmk, {}, { block: 'D0000B1AX00N0000garbage' })])).toBe('rejected:bad_block');
    const { dukpt: _none, ...withoutInfo } = ikItem('aes128', tmk);
    expect(attempt([{ ...withoutInfo, usage: 'IK' }])).toBe('rejected:bad_block');
    expect(attempt([ikItem('aes128', tmk, {}, { format: 'pfk1' })])).toBe('rejected:bad_block');
    // An initial KSN whose counter is not 0, or of the other scheme's length.
    expect(
      attempt([ikItem('aes128', tmk, {}, { dukpt: { scheme: 'aes128', ksn: '123456789012345600000001', bdkKcv: 'cmac:000000' } })]),
    ).toBe('rejected:bad_block');
    expect(attempt([ikItem('tdes', tmk, {}, { dukpt: { scheme: 'tdes', ksn: published.aes128.ksn, bdkKcv: 'enc0:000000' } })])).toBe(
      'rejected:bad_block',
    );
  });

  it('refuses a block without its device block or its IK block, with the other algorithm, or holding a key of the wrong length: rejected bad_block', () => {
    const { tmk, attempt } = setup();
    expect(attempt([ikItem('aes128', tmk, { blocks: [initialKeyIdBlock(h('1234567890123456'))] })])).toBe('rejected:bad_block');
    expect(attempt([ikItem('aes128', tmk, { blocks: [deviceBlock(DEV)] })])).toBe('rejected:bad_block');
    expect(attempt([ikItem('aes128', tmk, { algorithm: 'T' })])).toBe('rejected:bad_block');
    expect(attempt([ikItem('aes256', tmk, { key: h(published.aes128.key) })])).toBe('rejected:bad_block');
  });

  it('refuses a block for another device: rejected wrong_device', () => {
    const { tmk, attempt } = setup();
    expect(attempt([ikItem('aes128', tmk, { blocks: [deviceBlock('dev_other'), initialKeyIdBlock(h('1234567890123456'))] })])).toBe(
      'rejected:wrong_device',
    );
  });

  it('refuses another slot, another key usage or mode, another initial key id than the item names: rejected wrong_slot', () => {
    const { tmk, attempt } = setup();
    expect(attempt([ikItem('aes128', tmk, {}, { slot: 'tpk' })])).toBe('rejected:wrong_slot');
    expect(attempt([ikItem('aes128', tmk, {}, { usage: 'TPK' })])).toBe('rejected:wrong_slot');
    expect(attempt([ikItem('aes128', tmk, { keyUsage: 'B0' })])).toBe('rejected:wrong_slot');
    expect(attempt([ikItem('aes128', tmk, { modeOfUse: 'E' })])).toBe('rejected:wrong_slot');
    expect(attempt([ikItem('aes128', tmk, { blocks: [deviceBlock(DEV), initialKeyIdBlock(h('1234567890ABCDEF'))] })])).toBe(
      'rejected:wrong_slot',
    );
    expect(attempt([ikItem('tdes', tmk, { blocks: [deviceBlock(DEV), { id: 'KS', data: 'FFFF9876543210A00000' }] })])).toBe(
      'rejected:wrong_slot',
    );
  });

  it('accepts the delivery layout of working keys (02-05 and KC), and refuses it when a binding block disagrees with the item', () => {
    const { dir, tmk, attempt } = setup();
    const key = h(published.aes128.key);
    const block = (over: { keyId?: string; version?: number; slot?: string; wrappingKeyId?: string } = {}) =>
      deliveryTr31({
        delivery: {
          keyUsage: 'B1',
          algorithm: 'A',
          modeOfUse: 'X',
          exportability: 'N',
          deviceId: DEV,
          keyId: 'key_ik1',
          version: 1,
          slot: 'dukpt',
          wrappingKeyId: TMK_ID,
          blocks: [initialKeyIdBlock(h('1234567890123456'))],
          ...over,
        },
        key,
        kbpk: tmk,
        kcvMethod: 'cmac',
      });
    expect(attempt([ikItem('aes128', tmk, {}, { block: block({ keyId: 'key_other' }) })])).toBe('rejected:wrong_slot');
    expect(attempt([ikItem('aes128', tmk, {}, { block: block({ version: 7 }) })])).toBe('rejected:wrong_slot');
    expect(attempt([ikItem('aes128', tmk, {}, { block: block({ slot: 'dukpt.2' }) })])).toBe('rejected:wrong_slot');
    expect(attempt([ikItem('aes128', tmk, {}, { block: block({ wrappingKeyId: 'key_tmk9' }) })])).toBe('rejected:unknown_wrapping_key');
    install(dir, [ikItem('aes128', tmk, {}, { block: block() })]);
    expect(reopen(dir).state('dukpt')).toMatchObject({ scheme: 'aes128', counter: 0 });
  });

  it('refuses an older version, or the same version with another key id: rejected stale_version', () => {
    const { dir, tmk, attempt } = setup();
    install(dir, [ikItem('aes128', tmk, {}, { version: 3, keyId: 'key_ik3' })]);
    expect(attempt([ikItem('aes128', tmk, {}, { version: 2, keyId: 'key_ik2' })])).toBe('rejected:stale_version');
    expect(attempt([ikItem('aes128', tmk, {}, { version: 3, keyId: 'key_ik9' })])).toBe('rejected:stale_version');
  });

  it('refuses an initial key when the terminal holds no TMK: rejected unknown_wrapping_key', () => {
    const { tmk, store, attempt } = setup();
    store.zeroize(['tmk']);
    expect(attempt([ikItem('aes128', tmk)])).toBe('rejected:unknown_wrapping_key');
  });

  it('fails a block under another TMK, or altered after its MAC: failed unwrap_failed', () => {
    const { tmk, attempt } = setup();
    expect(attempt([ikItem('aes128', tmk, { kbpk: randomBytes(32) })])).toBe('failed:unwrap_failed');
    const good = ikItem('aes128', tmk);
    const at = good.block.length - 40;
    const flipped = `${good.block.slice(0, at)}${good.block[at] === '0' ? '1' : '0'}${good.block.slice(at + 1)}`;
    expect(attempt([{ ...good, block: flipped }])).toBe('failed:unwrap_failed');
  });

  it("fails a KCV that is not the key's, or by the other scheme's method: failed kcv_mismatch", () => {
    const { tmk, attempt } = setup();
    expect(attempt([ikItem('aes128', tmk, {}, { kcv: 'cmac:000000' })])).toBe('failed:kcv_mismatch');
    expect(attempt([ikItem('tdes', tmk, {}, { kcv: 'cmac:000000' })])).toBe('failed:kcv_mismatch');
  });

  it('stores nothing of a command with one bad item, and leaves the counters as they were', () => {
    const { dir, tmk, store } = setup();
    install(dir, [ikItem('aes128', tmk)]);
    reopen(dir).encipherPin('dukpt', '1234', '4111111111111111');
    const before = reopen(dir).inventory();
    const good = ikItem('tdes', tmk, {}, { slot: 'dukpt.2' });
    const bad = ikItem('aes256', tmk, {}, { slot: 'dukpt.3', kcv: 'cmac:000000' });
    expect(refusal(() => install(dir, [good, bad]))).toBe('failed:kcv_mismatch');
    expect(reopen(dir).inventory()).toEqual(before);
    expect(store.slot('dukpt.2')).toBeUndefined();
    expect(reopen(dir).state('dukpt')).toMatchObject({ counter: 1 });
  });
});
