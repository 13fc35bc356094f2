// posfleet's working keys (TPK, TAK, TDK) as TR-31 blocks under the TMK (docs/keys.md, "Working
// keys under the TMK"): the X9.143 key usage and mode of use of each, and the posfleet header a
// block maps to, so the agent checks a TR-31 item as it checks a PFK1 one.
import { KEY_ALGORITHM, KeyBlockError, workingUsages, type KeyBlockHeader, type WorkingUsage } from './header.ts';
import { KEY_BYTES } from './keyBlock.ts';
import { deliveryTr31, type Tr31Delivery } from './tr31Delivery.ts';
import type { Tr31Protection } from './tr31.ts';

/**
 * X9.143 usage and mode of use per working key: a terminal encrypts PINs (P0, E), makes and checks
 * AES-CMAC MACs (M6 is ISO 9797-1:2011 MAC algorithm 5, CMAC; C both), encrypts and decrypts data (D0, B).
 */
export const tr31WorkingUsage: Readonly<Record<WorkingUsage, { keyUsage: string; modeOfUse: string }>> = {
  TPK: { keyUsage: 'P0', modeOfUse: 'E' },
  TAK: { keyUsage: 'M6', modeOfUse: 'C' },
  TDK: { keyUsage: 'D0', modeOfUse: 'B' },
};
/** AES: posfleet's working keys are AES-256. */
export const TR31_AES = 'A';

/** The working usage a block's key usage and mode of use stand for; undefined for any other pair. */
export function workingUsageOf(d: Pick<Tr31Delivery, 'keyUsage' | 'modeOfUse'>): WorkingUsage | undefined {
  return workingUsages.find((u) => tr31WorkingUsage[u].keyUsage === d.keyUsage && tr31WorkingUsage[u].modeOfUse === d.modeOfUse);
}

/** The posfleet header a delivered block stands for, given the usage it maps to. */
export const headerOfDelivery = (d: Tr31Delivery, usage: WorkingUsage): KeyBlockHeader => ({
  usage,
  alg: KEY_ALGORITHM,
  ver: d.version,
  kid: d.keyId,
  dev: d.deviceId,
  slot: d.slot,
  wk: d.wrappingKeyId,
});

export interface WorkingKeyTr31Input {
  header: KeyBlockHeader;
  key: Uint8Array;
  /** The TMK, or its KBEK and KBMK derived once per device. */
  tmk: Tr31Protection;
  /** Fixed only for test vectors. */
  padding?: Uint8Array;
}

/** A working key's TR-31 block: usage from the table above, AES, non-exportable, with its CMAC KCV in KC. */
export function workingKeyTr31(input: WorkingKeyTr31Input): string {
  const h = input.header;
  const usage = workingUsages.find((u) => u === h.usage);
  if (!usage) throw new KeyBlockError('bad_block', 'a TR-31 delivery under the TMK is for a working key (TPK, TAK, TDK)');
  if (input.key.length !== KEY_BYTES) throw new KeyBlockError('bad_block', 'keys are 32 bytes');
  return deliveryTr31({
    delivery: { ...tr31WorkingUsage[usage], algorithm: TR31_AES, exportability: 'N', deviceId: h.dev, keyId: h.kid, version: h.ver, slot: h.slot, wrappingKeyId: h.wk, blocks: [] },
    key: input.key,
    kbpk: input.tmk,
    kcvMethod: 'cmac',
    ...(input.padding ? { padding: input.padding } : {}),
  });
}
