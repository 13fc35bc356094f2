// Key commands on the wire (SPEC §3, §5), shared by the server and the agent. Key blocks are
// base64 of the PFK1 layout (keyCrypto/keyBlock.ts, docs/keys.md); a KCV is `cmac:XXXXXX`.
import { z } from 'zod';
import { keyUsages } from './keyCrypto/header.ts';

export { keyUsages, workingUsages, type KeyUsage, type WorkingUsage } from './keyCrypto/header.ts';

export const kcvString = z.string().regex(/^cmac:[0-9A-F]{6}$/);
export const slotName = z.string().regex(/^(tmk|tpk|tak|tdk)(\.[0-9]{1,3})?$/);

/** One key to install. TMK items come first; working keys may be under a TMK of the same command. */
export const keyInstallItem = z.object({
  slot: slotName,
  usage: z.enum(keyUsages),
  keyId: z.string().min(1).max(64),
  version: z.number().int().min(1),
  /** What the server computed; the agent refuses the key if its own KCV differs. */
  kcv: kcvString,
  block: z.string().min(1).max(4096),
});
export type KeyInstallItem = z.infer<typeof keyInstallItem>;

/** `keys.install`. With no items it only reports the inventory. */
export const keysInstallPayload = z.looseObject({
  items: z.array(keyInstallItem).max(16),
  rotationId: z.string().max(64).optional(),
});
export type KeysInstallPayload = z.infer<typeof keysInstallPayload>;

/** `keys.zeroize`: every slot, or the ones listed. */
export const keysZeroizePayload = z.looseObject({
  slots: z.array(slotName).max(64).optional(),
  reason: z.string().max(200).optional(),
});
export type KeysZeroizePayload = z.infer<typeof keysZeroizePayload>;

/** One entry of the device's key inventory: never the key. */
export const inventoryEntry = z.object({
  slot: slotName,
  usage: z.enum(keyUsages),
  keyId: z.string(),
  version: z.number().int(),
  kcv: kcvString,
  installedAt: z.number().int().optional(),
});
export type InventoryEntry = z.infer<typeof inventoryEntry>;

/** `result` of a succeeded `keys.install` ack. */
export const keysInstallResult = z.looseObject({
  installed: z.array(inventoryEntry.pick({ slot: true, usage: true, keyId: true, version: true, kcv: true })),
  inventory: z.array(inventoryEntry),
});
export type KeysInstallResult = z.infer<typeof keysInstallResult>;

/** Codes a `keys.install` is rejected or failed with. */
export const keyErrorCodes = [
  'wrong_device',
  'wrong_slot',
  'stale_version',
  'unknown_wrapping_key',
  'bad_block',
  'unwrap_failed',
  'kcv_mismatch',
] as const;
