// The agent's side of key delivery, without a broker: unwrap and checks (other device, other
// slot, older version, unknown TMK, tampered block, KCV mismatch), the encrypted store, zeroize.
import { createPublicKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { KeyInstallError, unwrapItems } from '../../agent/keys/installKeys.ts';
import { openSecureStore } from '../../agent/keys/secureStore.ts';
import { keyCheckValue } from '../../schemas/keyCrypto/cmac.ts';
import type { KeyBlockHeader, KeyUsage } from '../../schemas/keyCrypto/header.ts';
import { rawX25519Public, sealTmkBlock, sealWorkingBlock } from '../../schemas/keyCrypto/keyBlock.ts';
import type { KeyInstallItem } from '../../schemas/keys.ts';
import { tempDir } from '../agent/helpers.ts';

const DEV = 'dev_one';
const kek = generateKeyPairSync('x25519').privateKey;
const kekPub = rawX25519Public(createPublicKey(kek));

function tmkItem(key: Buffer, opts: Partial<KeyBlockHeader> = {}): KeyInstallItem {
  const h: KeyBlockHeader = { usage: 'TMK', alg: 'AES256', ver: 1, kid: 'key_tmk1', dev: DEV, slot: 'tmk', wk: 'KEK', ...opts };
  return { slot: h.slot, usage: 'TMK', keyId: h.kid, version: h.ver, kcv: keyCheckValue(key), block: sealTmkBlock({ header: h, key, kekPublicKey: kekPub }).toString('base64') };
}
function workItem(key: Buffer, tmk: Buffer, opts: Partial<KeyBlockHeader> = {}, item: Partial<KeyInstallItem> = {}): KeyInstallItem {
  const h: KeyBlockHeader = { usage: 'TPK', alg: 'AES256', ver: 1, kid: 'key_tpk1', dev: DEV, slot: 'tpk', wk: 'key_tmk1', ...opts };
  return { slot: h.slot, usage: h.usage as KeyUsage, keyId: h.kid, version: h.ver, kcv: keyCheckValue(key), block: sealWorkingBlock({ header: h, key, tmk }).toString('base64'), ...item };
}

function setup() {
  const dir = tempDir('posfleet-keystore-');
  const store = openSecureStore(dir);
  const tmk = randomBytes(32);
  const tpk = randomBytes(32);
  const installed = unwrapItems([tmkItem(tmk), workItem(tpk, tmk)], { deviceId: DEV, kek, store });
  store.install(installed, 1000);
  return { dir, store, tmk, tpk };
}

const refusal = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    if (err instanceof KeyInstallError) return `${err.state}:${err.code}`;
    throw err;
  }
  return 'accepted';
};

describe('agent key install', () => {
  it('unwraps a TMK and a working key under it, and stores both encrypted', () => {
    const { dir, store, tmk, tpk } = setup();
    expect(store.inventory().map((i) => [i.slot, i.version, i.kcv])).toEqual([
      ['tmk', 1, keyCheckValue(tmk)],
      ['tpk', 1, keyCheckValue(tpk)],
    ]);
    expect(store.keyOf('tpk')!.equals(tpk)).toBe(true);
    const file = readFileSync(join(dir, 'keystore.enc'));
    for (const k of [tmk, tpk]) {
      expect(file.includes(k)).toBe(false);
      expect(file.toString('latin1')).not.toContain(k.toString('base64'));
    }
    expect(statSync(join(dir, 'keystore.key')).mode & 0o777).toBe(0o600);
  });

  it('rejects a block for another device', () => {
    const { store, tmk } = setup();
    expect(refusal(() => unwrapItems([workItem(randomBytes(32), tmk, { dev: 'dev_two', ver: 2 })], { deviceId: DEV, kek, store }))).toBe('rejected:wrong_device');
  });

  it('rejects a block for another slot than the item names, or a slot that does not fit the usage', () => {
    const { store, tmk } = setup();
    const key = randomBytes(32);
    expect(refusal(() => unwrapItems([workItem(key, tmk, { ver: 2, slot: 'tak', usage: 'TAK' }, { slot: 'tpk', usage: 'TPK' })], { deviceId: DEV, kek, store }))).toBe('rejected:wrong_slot');
    expect(refusal(() => unwrapItems([workItem(key, tmk, { ver: 2, slot: 'tak', usage: 'TPK' })], { deviceId: DEV, kek, store }))).toBe('rejected:wrong_slot');
  });

  it('rejects a replayed older version, and the same version with another key', () => {
    const { store, tmk, tpk } = setup();
    store.install(unwrapItems([workItem(randomBytes(32), tmk, { ver: 3, kid: 'key_tpk3' })], { deviceId: DEV, kek, store }), 2000);
    expect(refusal(() => unwrapItems([workItem(tpk, tmk, { ver: 1 })], { deviceId: DEV, kek, store }))).toBe('rejected:stale_version');
    expect(refusal(() => unwrapItems([workItem(tpk, tmk, { ver: 2, kid: 'key_tpk2' })], { deviceId: DEV, kek, store }))).toBe('rejected:stale_version');
    expect(refusal(() => unwrapItems([workItem(tpk, tmk, { ver: 3, kid: 'key_other' })], { deviceId: DEV, kek, store }))).toBe('rejected:stale_version');
  });

  it('rejects a working key under a TMK it does not hold, and fails a block that does not authenticate', () => {
    const { store, tmk } = setup();
    expect(refusal(() => unwrapItems([workItem(randomBytes(32), tmk, { ver: 2, wk: 'key_tmk9' })], { deviceId: DEV, kek, store }))).toBe('rejected:unknown_wrapping_key');
    expect(refusal(() => unwrapItems([workItem(randomBytes(32), randomBytes(32), { ver: 2 })], { deviceId: DEV, kek, store }))).toBe('failed:unwrap_failed');
    const other = generateKeyPairSync('x25519').publicKey;
    const h: KeyBlockHeader = { usage: 'TMK', alg: 'AES256', ver: 2, kid: 'key_tmk2', dev: DEV, slot: 'tmk', wk: 'KEK' };
    const k = randomBytes(32);
    const forOther = { slot: 'tmk', usage: 'TMK' as const, keyId: 'key_tmk2', version: 2, kcv: keyCheckValue(k), block: sealTmkBlock({ header: h, key: k, kekPublicKey: rawX25519Public(other) }).toString('base64') };
    expect(refusal(() => unwrapItems([forOther], { deviceId: DEV, kek, store }))).toBe('failed:unwrap_failed');
    expect(refusal(() => unwrapItems([{ ...forOther, block: 'bm90IGEgYmxvY2s=' }], { deviceId: DEV, kek, store }))).toBe('rejected:bad_block');
  });

  it('fails on a KCV mismatch and stores nothing of the command', () => {
    const { store, tmk } = setup();
    const before = store.inventory();
    const good = workItem(randomBytes(32), tmk, { ver: 2, slot: 'tak', usage: 'TAK', kid: 'key_tak2' });
    const bad = workItem(randomBytes(32), tmk, { ver: 2, kid: 'key_tpk2' }, { kcv: 'cmac:000000' });
    expect(refusal(() => unwrapItems([good, bad], { deviceId: DEV, kek, store }))).toBe('failed:kcv_mismatch');
    expect(store.inventory()).toEqual(before);
  });

  it('zeroizes one slot, or everything including the store key', () => {
    const { dir, store } = setup();
    expect(store.zeroize(['tpk'])).toBe(1);
    expect(store.inventory().map((i) => i.slot)).toEqual(['tmk']);
    expect(store.zeroize()).toBe(1);
    expect(store.inventory()).toEqual([]);
    expect(() => statSync(join(dir, 'keystore.key'))).toThrow();
  });
});
