// The agent's side of key delivery, without a broker: unwrap and checks (other device, other
// slot, older version, unknown TMK, tampered block, KCV mismatch), the encrypted store, zeroize.
import { createPublicKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { unwrapItems } from '../../agent/keys/installKeys.ts';
import { openSecureStore } from '../../agent/keys/secureStore.ts';
import { keyCheckValue } from '../../schemas/keyCrypto/cmac.ts';
import type { KeyBlockHeader } from '../../schemas/keyCrypto/header.ts';
import { rawX25519Public, sealTmkBlock, sealWorkingBlock } from '../../schemas/keyCrypto/keyBlock.ts';
import { wrapTr31 } from '../../schemas/keyCrypto/tr31.ts';
import { deliveryHeader, deliveryTr31, type Tr31Delivery } from '../../schemas/keyCrypto/tr31Delivery.ts';
import { workingKeyTr31 } from '../../schemas/keyCrypto/workingKeyTr31.ts';
import { keyInstallItem, type KeyInstallItem } from '../../schemas/keys.ts';
import { installRefusal as refusal, tempDir } from '../agent/helpers.ts';

const DEV = 'dev_one';
const kek = generateKeyPairSync('x25519').privateKey;
const kekPub = rawX25519Public(createPublicKey(kek));

function tmkItem(key: Buffer, opts: Partial<KeyBlockHeader> = {}): KeyInstallItem {
  const h: KeyBlockHeader = { usage: 'TMK', alg: 'AES256', ver: 1, kid: 'key_tmk1', dev: DEV, slot: 'tmk', wk: 'KEK', ...opts };
  return { slot: h.slot, usage: 'TMK', keyId: h.kid, version: h.ver, kcv: keyCheckValue(key), format: 'pfk1', block: sealTmkBlock({ header: h, key, kekPublicKey: kekPub }).toString('base64') };
}
function workItem(key: Buffer, tmk: Buffer, opts: Partial<KeyBlockHeader> = {}, item: Partial<KeyInstallItem> = {}): KeyInstallItem {
  const h: KeyBlockHeader = { usage: 'TPK', alg: 'AES256', ver: 1, kid: 'key_tpk1', dev: DEV, slot: 'tpk', wk: 'key_tmk1', ...opts };
  return { slot: h.slot, usage: h.usage, keyId: h.kid, version: h.ver, kcv: keyCheckValue(key), format: 'pfk1', block: sealWorkingBlock({ header: h, key, tmk }).toString('base64'), ...item };
}

/** A working key as this server sends it now: TR-31 under the TMK. */
function tr31Item(key: Buffer, tmk: Buffer, opts: Partial<KeyBlockHeader> = {}, item: Partial<KeyInstallItem> = {}): KeyInstallItem {
  const h: KeyBlockHeader = { usage: 'TPK', alg: 'AES256', ver: 2, kid: 'key_tpk2', dev: DEV, slot: 'tpk', wk: 'key_tmk1', ...opts };
  return { slot: h.slot, usage: h.usage, keyId: h.kid, version: h.ver, kcv: keyCheckValue(key), format: 'tr31', block: workingKeyTr31({ header: h, key, tmk }), ...item };
}
/** A TR-31 item whose X9.143 fields are chosen by the test (another usage, algorithm, a wrong KC). */
function rawTr31Item(key: Buffer, tmk: Buffer, change: Partial<Tr31Delivery>): KeyInstallItem {
  const d: Tr31Delivery = { keyUsage: 'P0', algorithm: 'A', modeOfUse: 'E', exportability: 'N', deviceId: DEV, keyId: 'key_tpk2', version: 2, slot: 'tpk', wrappingKeyId: 'key_tmk1', blocks: [], ...change };
  return { slot: 'tpk', usage: 'TPK', keyId: 'key_tpk2', version: 2, kcv: keyCheckValue(key), format: 'tr31', block: wrapTr31({ header: deliveryHeader(d), key, kbpk: tmk }) };
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
    const forOther = { slot: 'tmk', usage: 'TMK' as const, keyId: 'key_tmk2', version: 2, kcv: keyCheckValue(k), format: 'pfk1' as const, block: sealTmkBlock({ header: h, key: k, kekPublicKey: rawX25519Public(other) }).toString('base64') };
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

describe('agent key install, TR-31 working keys', () => {
  const ctx = (store: ReturnType<typeof setup>['store']) => ({ deviceId: DEV, kek, store });

  it('installs TR-31 working keys over PFK1-delivered ones, each with the KCV it computed', () => {
    const { store, tmk } = setup();
    const tpk = randomBytes(32);
    const tak = randomBytes(32);
    const tdk = randomBytes(32);
    const items = [tr31Item(tpk, tmk), tr31Item(tak, tmk, { usage: 'TAK', slot: 'tak', kid: 'key_tak1', ver: 1 }), tr31Item(tdk, tmk, { usage: 'TDK', slot: 'tdk.2', kid: 'key_tdk1', ver: 1 })];
    store.install(unwrapItems(items, ctx(store)), 2000);
    expect(store.inventory().map((i) => [i.slot, i.keyId, i.version, i.kcv])).toEqual([
      ['tak', 'key_tak1', 1, keyCheckValue(tak)],
      ['tdk.2', 'key_tdk1', 1, keyCheckValue(tdk)],
      ['tmk', 'key_tmk1', 1, keyCheckValue(tmk)],
      ['tpk', 'key_tpk2', 2, keyCheckValue(tpk)],
    ]);
    expect(store.keyOf('tpk')!.equals(tpk)).toBe(true);
    expect(store.slot('tak')?.wk).toBe('key_tmk1');
  });

  it('installs a TR-31 key under the TMK of the same command (a first load)', () => {
    const dir = tempDir('posfleet-keystore-');
    const store = openSecureStore(dir);
    const tmk = randomBytes(32);
    const tpk = randomBytes(32);
    store.install(unwrapItems([tmkItem(tmk), tr31Item(tpk, tmk, { ver: 1, kid: 'key_tpk1' })], ctx(store)), 1000);
    expect(store.keyOf('tpk')!.equals(tpk)).toBe(true);
  });

  it('reads an item without format as PFK1, as servers before TR-31 sent it', () => {
    const dir = tempDir('posfleet-keystore-');
    const store = openSecureStore(dir);
    const tmk = randomBytes(32);
    const { format: _, ...old } = tmkItem(tmk);
    const parsed = keyInstallItem.parse(old);
    expect(parsed.format).toBe('pfk1');
    expect(unwrapItems([parsed], ctx(store)).map((k) => k.kcv)).toEqual([keyCheckValue(tmk)]);
  });

  it.each([
    ['a block for another device (block 01)', () => tr31Item(randomBytes(32), setupTmk(), { dev: 'dev_two' }), 'rejected:wrong_device'],
    ['a TAK block (M6) sent as the TPK', () => tr31Item(randomBytes(32), setupTmk(), { usage: 'TAK', slot: 'tak' }, { slot: 'tpk', usage: 'TPK' }), 'rejected:wrong_slot'],
    ['a PIN key (P0) whose slot block says tak, sent as the TAK', () => tr31Item(randomBytes(32), setupTmk(), { slot: 'tak' }, { slot: 'tak', usage: 'TAK' }), 'rejected:wrong_slot'],
    ['a key usage that is no working key\'s (K0)', () => rawTr31Item(randomBytes(32), setupTmk(), { keyUsage: 'K0', modeOfUse: 'B' }), 'rejected:wrong_slot'],
    ['a PIN key with another mode of use than E', () => rawTr31Item(randomBytes(32), setupTmk(), { modeOfUse: 'B' }), 'rejected:wrong_slot'],
    ['a block naming another key id than the item', () => tr31Item(randomBytes(32), setupTmk(), { kid: 'key_other' }, { keyId: 'key_tpk2' }), 'rejected:wrong_slot'],
    ['a block naming another version than the item', () => tr31Item(randomBytes(32), setupTmk(), { ver: 3 }, { version: 2 }), 'rejected:wrong_slot'],
    ['an older version than installed', () => tr31Item(randomBytes(32), setupTmk(), { ver: 1, kid: 'key_tpk0' }), 'rejected:stale_version'],
    ['a block under a TMK it does not hold (block 05)', () => tr31Item(randomBytes(32), setupTmk(), { wk: 'key_tmk9' }), 'rejected:unknown_wrapping_key'],
    ['a TDES key (algorithm T)', () => rawTr31Item(randomBytes(16), setupTmk(), { algorithm: 'T' }), 'rejected:bad_block'],
    ['an AES-128 key', () => rawTr31Item(randomBytes(16), setupTmk(), {}), 'rejected:bad_block'],
    ['a TMK as TR-31', () => ({ ...tr31Item(randomBytes(32), setupTmk()), usage: 'TMK' as const, slot: 'tmk' }), 'rejected:bad_block'],
    ['text that is no TR-31 block', () => ({ ...tr31Item(randomBytes(32), setupTmk()), block: 'D0016P0AE00E0000' }), 'rejected:bad_block'],
    ['a PFK1 block labelled tr31', () => ({ ...workItem(randomBytes(32), setupTmk(), { ver: 2, kid: 'key_tpk2' }), format: 'tr31' as const }), 'rejected:bad_block'],
    ['a block under another TMK', () => tr31Item(randomBytes(32), randomBytes(32)), 'failed:unwrap_failed'],
    ['the exportability changed from N to E', () => tamper(tr31Item(randomBytes(32), setupTmk()), 11, 'E'), 'failed:unwrap_failed'],
    ['a ciphertext character changed', () => tamper(tr31Item(randomBytes(32), setupTmk()), -40, '0'), 'failed:unwrap_failed'],
    ['a MAC character changed', () => tamper(tr31Item(randomBytes(32), setupTmk()), -1, '0'), 'failed:unwrap_failed'],
    ['a KC block that is not the key\'s', () => rawTr31Item(randomBytes(32), setupTmk(), { kcv: 'cmac:000000' }), 'failed:kcv_mismatch'],
    ['an item KCV that is not the key\'s', () => tr31Item(randomBytes(32), setupTmk(), {}, { kcv: 'cmac:000000' }), 'failed:kcv_mismatch'],
  ] as const)('refuses %s and stores nothing of the command', (_why, make, expected) => {
    const { store, tmk } = setup();
    current = tmk;
    const before = store.inventory();
    const good = tr31Item(randomBytes(32), tmk, { usage: 'TAK', slot: 'tak', kid: 'key_tak1', ver: 1 });
    const bad = make();
    expect(refusal(() => unwrapItems([good, bad], ctx(store)))).toBe(expected);
    expect(store.inventory()).toEqual(before);
    expect(store.slot('tak')).toBeUndefined();
  });
});

/** The TMK of the current test's setup(): the tables above build their items lazily, under it. */
let current: Buffer = Buffer.alloc(32);
const setupTmk = () => current;
/** The item with one character of its block replaced (a negative position counts from the end). */
function tamper(item: KeyInstallItem, at: number, to: string): KeyInstallItem {
  const i = at < 0 ? item.block.length + at : at;
  const swapped = item.block[i] === to ? (to === '0' ? '1' : 'N') : to;
  return { ...item, block: item.block.slice(0, i) + swapped + item.block.slice(i + 1) };
}
