// Device-side checks of a DUKPT initial key item of keys.install (docs/keys.md "DUKPT injection"):
// a TR-31 version D block under the terminal's TMK, key usage B1, mode X, algorithm A (AES
// initial key) or T (TDES IPEK), with the device id in block 01 and the initial key id (IK) or
// initial KSN (KS) the item names. posfleet's further binding blocks (02 key id, 03 version,
// 04 slot, 05 wrapping key, KC check value; keyCrypto/tr31Delivery.ts) are checked when present.
import { KeyBlockError, slotFitsUsage } from '../../schemas/keyCrypto/header.ts';
import { kcv, matchesKcv, type KcvMethod } from '../../schemas/keyCrypto/kcv.ts';
import { DEVICE_BLOCK_ID, parseHeader, unwrapTr31, type Tr31Header } from '../../schemas/keyCrypto/tr31.ts';
import {
  KCV_BLOCK_ID,
  KEY_ID_BLOCK_ID,
  SLOT_BLOCK_ID,
  VERSION_BLOCK_ID,
  WRAPPING_KEY_BLOCK_ID,
} from '../../schemas/keyCrypto/tr31Delivery.ts';
import type { DukptScheme, KeyInstallItem } from '../../schemas/keys.ts';
import { counterRules } from './dukptCounters.ts';
import { KeyInstallError } from './installError.ts';
import type { NewKey, SecureStore } from './secureStore.ts';

/** X9.143 key usage of a DUKPT initial key (AES initial key or TDES IPEK), and its mode: derive. */
export const TR31_INITIAL_KEY_USAGE = 'B1';
export const TR31_DERIVE_MODE = 'X';

interface SchemeShape {
  algorithm: 'A' | 'T';
  keyBytes: number;
  kcvMethod: KcvMethod;
  /** The block naming the initial key, and what of the initial KSN (hex) it holds. */
  nameBlock: 'IK' | 'KS';
  nameOf(initialKsn: string): string;
}

const shapes: Readonly<Record<DukptScheme, SchemeShape>> = {
  aes128: { algorithm: 'A', keyBytes: 16, kcvMethod: 'cmac', nameBlock: 'IK', nameOf: (k) => k.slice(0, 16) },
  aes256: { algorithm: 'A', keyBytes: 32, kcvMethod: 'cmac', nameBlock: 'IK', nameOf: (k) => k.slice(0, 16) },
  tdes: { algorithm: 'T', keyBytes: 16, kcvMethod: 'enc0', nameBlock: 'KS', nameOf: (k) => k },
};

const rejected = (code: string, message: string, cause?: unknown) => new KeyInstallError(code, message, 'rejected', { cause });
const failed = (code: string, message: string, cause?: unknown) => new KeyInstallError(code, message, 'failed', { cause });

function single(h: Tr31Header, id: string): string | undefined {
  const found = h.optionalBlocks.filter((b) => b.id === id);
  if (found.length > 1) throw rejected('bad_block', `optional block ${id} appears more than once`);
  return found[0]?.data;
}

/** The TMK an initial key is under: one earlier in the same command, else the terminal's. */
function tmkFor(pending: readonly NewKey[], store: SecureStore): { keyId: string; key: Buffer; stored: boolean } | undefined {
  const inCommand = pending.findLast((k) => k.usage === 'TMK');
  if (inCommand) return { keyId: inCommand.keyId, key: inCommand.key, stored: false };
  const slot = store.slot('tmk');
  const key = slot && store.keyOf('tmk');
  return slot && key ? { keyId: slot.keyId, key, stored: true } : undefined;
}

function checkHeader(item: KeyInstallItem, h: Tr31Header, shape: SchemeShape, deviceId: string, initialKsn: string): void {
  const device = single(h, DEVICE_BLOCK_ID);
  if (device === undefined) throw rejected('bad_block', `block ${item.keyId} names no device (optional block ${DEVICE_BLOCK_ID})`);
  if (device !== deviceId) throw rejected('wrong_device', `block ${item.keyId} is for another device`);
  if (h.keyUsage !== TR31_INITIAL_KEY_USAGE || h.modeOfUse !== TR31_DERIVE_MODE)
    throw rejected(
      'wrong_slot',
      `block ${item.keyId} has key usage ${h.keyUsage} mode ${h.modeOfUse}; slot ${item.slot} takes a DUKPT initial key (B1, X)`,
    );
  if (h.algorithm !== shape.algorithm)
    throw rejected(
      'bad_block',
      `block ${item.keyId} holds an algorithm ${h.algorithm} key; a ${item.dukpt?.scheme} initial key is ${shape.algorithm}`,
    );
  const name = single(h, shape.nameBlock);
  if (name === undefined) throw rejected('bad_block', `block ${item.keyId} has no ${shape.nameBlock} block naming its initial key`);
  if (name !== shape.nameOf(initialKsn))
    throw rejected('wrong_slot', `block ${item.keyId} is for initial key ${name}, not ${shape.nameOf(initialKsn)}`);
  const binding: [string, string][] = [
    [KEY_ID_BLOCK_ID, item.keyId],
    [VERSION_BLOCK_ID, String(item.version)],
    [SLOT_BLOCK_ID, item.slot],
  ];
  for (const [id, expected] of binding) {
    const data = single(h, id);
    if (data !== undefined && data !== expected)
      throw rejected('wrong_slot', `block ${item.keyId}: optional block ${id} says ${data}, the item ${expected}`);
  }
}

/** Checks and unwraps one IK item; the caller stores it with the rest of the command or none. */
export function unwrapInitialKey(item: KeyInstallItem, ctx: { deviceId: string; store: SecureStore; pending: readonly NewKey[] }): NewKey {
  const info = item.dukpt;
  if (!info) throw rejected('bad_block', `item ${item.keyId} is an initial key without its dukpt scheme and KSN`);
  if (item.format !== 'tr31') throw rejected('bad_block', `item ${item.keyId}: an initial key travels as a TR-31 block (format tr31)`);
  if (item.usage !== 'IK' || !slotFitsUsage(item.slot, 'IK'))
    throw rejected('wrong_slot', `an initial key goes to slot dukpt or dukpt.<n>, not ${item.slot}`);
  const shape = shapes[info.scheme];
  const rules = counterRules(info.scheme);
  const initial = Buffer.from(info.ksn, 'hex');
  if (initial.length !== rules.ksnBytes || !rules.ksn(initial, 0).equals(initial))
    throw rejected('bad_block', `a ${info.scheme} initial KSN is ${rules.ksnBytes} bytes with the counter 0, not ${info.ksn}`);
  let header: Tr31Header;
  try {
    header = parseHeader(item.block).header;
  } catch (err) {
    throw rejected('bad_block', err instanceof Error ? err.message : 'not a TR-31 key block', err);
  }
  checkHeader(item, header, shape, ctx.deviceId, info.ksn);
  const current = ctx.store.slot(item.slot);
  if (current && (item.version < current.version || (item.version === current.version && item.keyId !== current.keyId)))
    throw rejected('stale_version', `slot ${item.slot} holds version ${current.version}; the item has version ${item.version}`);
  const tmk = tmkFor(ctx.pending, ctx.store);
  if (!tmk) throw rejected('unknown_wrapping_key', `block ${item.keyId} is under the TMK, which this terminal does not hold`);
  const wk = single(header, WRAPPING_KEY_BLOCK_ID);
  let key: Buffer;
  try {
    if (wk !== undefined && wk !== tmk.keyId)
      throw rejected('unknown_wrapping_key', `block ${item.keyId} is under TMK ${wk}; this terminal holds ${tmk.keyId}`);
    key = unwrapTr31(item.block, tmk.key).key;
  } catch (err) {
    if (err instanceof KeyBlockError && err.code === 'unwrap_failed') throw failed('unwrap_failed', err.message, err);
    if (err instanceof KeyBlockError) throw rejected('bad_block', err.message, err);
    throw err;
  } finally {
    if (tmk.stored) tmk.key.fill(0);
  }
  try {
    if (key.length !== shape.keyBytes)
      throw rejected(
        'bad_block',
        `block ${item.keyId} holds a ${key.length}-byte key; a ${info.scheme} initial key is ${shape.keyBytes} bytes`,
      );
    const own = kcv(shape.kcvMethod, key);
    if (!item.kcv.startsWith(`${shape.kcvMethod}:`) || !matchesKcv(key, item.kcv))
      throw failed('kcv_mismatch', `key ${item.keyId}: computed ${own}, expected ${item.kcv}`);
    const carried = single(header, KCV_BLOCK_ID);
    // KC: the KCV algorithm (00 encryption of zeros, 01 CMAC), then at least the 3 bytes posfleet compares.
    if (carried !== undefined && carried.slice(0, 8) !== `${shape.kcvMethod === 'cmac' ? '01' : '00'}${own.slice(5)}`)
      throw failed('kcv_mismatch', `key ${item.keyId}: computed ${own}, its KC block says ${carried}`);
    return {
      slot: item.slot,
      usage: 'IK',
      keyId: item.keyId,
      version: item.version,
      kcv: own,
      key,
      wk: tmk.keyId,
      dukpt: { scheme: info.scheme, ksn: info.ksn, counter: 0, countersLeft: rules.lifetime },
    };
  } catch (err) {
    key.fill(0);
    throw err;
  }
}
