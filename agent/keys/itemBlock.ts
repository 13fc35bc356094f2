// The block of one keys.install item, whichever format the item names (docs/keys.md, "Migration"):
// PFK1 (base64; every TMK, and working keys from servers before TR-31) or TR-31 version D (ASCII).
// Either reads as a posfleet header before any key opens it, so the agent checks device, slot,
// version and wrapping key the same way for both.
import type { KeyObject } from 'node:crypto';
import { KeyBlockError, type KeyBlockHeader } from '../../schemas/keyCrypto/header.ts';
import { KEY_BYTES, openTmkBlock, openWorkingBlock, parseBlock } from '../../schemas/keyCrypto/keyBlock.ts';
import { openDeliveryTr31, readDeliveryTr31, type Tr31Delivery } from '../../schemas/keyCrypto/tr31Delivery.ts';
import { headerOfDelivery, TR31_AES, workingUsageOf } from '../../schemas/keyCrypto/workingKeyTr31.ts';
import type { KeyInstallItem } from '../../schemas/keys.ts';
import { KeyInstallError } from './installError.ts';

export interface ItemBlock {
  header: KeyBlockHeader;
  /** The KCV the block itself carries (a TR-31 KC block): the key must match it as it must match the item's. */
  kcv?: string;
  /** A TMK under this terminal's KEK. Throws KeyBlockError. */
  openWithKek(kek: KeyObject): Buffer;
  /** A working key under the TMK the header names. Throws KeyBlockError. */
  openWithTmk(tmk: Buffer): Buffer;
}

const rejected = (code: string, message: string, cause?: unknown) => new KeyInstallError(code, message, 'rejected', { cause });

function readPfk1(item: KeyInstallItem): ItemBlock {
  let p;
  try {
    p = parseBlock(Buffer.from(item.block, 'base64'));
  } catch (err) {
    throw rejected('bad_block', err instanceof Error ? err.message : 'not a PFK1 key block', err);
  }
  const parsed = p;
  return { header: parsed.header, openWithKek: (kek) => openTmkBlock(parsed, kek), openWithTmk: (tmk) => openWorkingBlock(parsed, tmk) };
}

function readTr31(item: KeyInstallItem): ItemBlock {
  if (item.usage === 'TMK') throw rejected('bad_block', 'a TMK travels as a PFK1 block under the KEK, never as TR-31');
  let d: Tr31Delivery;
  try {
    d = readDeliveryTr31(item.block);
  } catch (err) {
    throw rejected('bad_block', err instanceof Error ? err.message : 'not a TR-31 key block', err);
  }
  if (d.algorithm !== TR31_AES) throw rejected('bad_block', `block ${item.keyId} holds an algorithm ${d.algorithm} key; working keys are AES (A)`);
  const usage = workingUsageOf(d);
  if (!usage) throw rejected('wrong_slot', `block ${item.keyId} has key usage ${d.keyUsage} mode ${d.modeOfUse}, which is no working key's`);
  return {
    header: headerOfDelivery(d, usage),
    ...(d.kcv === undefined ? {} : { kcv: d.kcv }),
    openWithKek: () => {
      throw new KeyBlockError('bad_block', 'a TR-31 block is under a TMK, not the KEK');
    },
    openWithTmk(tmk) {
      const { key } = openDeliveryTr31(item.block, tmk);
      if (key.length !== KEY_BYTES) {
        key.fill(0);
        throw new KeyBlockError('bad_block', `block ${item.keyId} holds a ${key.length}-byte key; working keys are AES-256`);
      }
      return key;
    },
  };
}

/** The item's block, read; throws KeyInstallError (bad_block, or wrong_slot for a usage that is no working key's). */
export const readItemBlock = (item: KeyInstallItem): ItemBlock => (item.format === 'tr31' ? readTr31(item) : readPfk1(item));
