// Key commands on the wire (SPEC §3, §5), shared by the server and the agent. A key block is
// base64 of the PFK1 layout (keyCrypto/keyBlock.ts) or a TR-31 version D block as it is, ASCII
// (keyCrypto/workingKeyTr31.ts), as the item's `format` says (docs/keys.md); a KCV is `cmac:XXXXXX`.
import { z } from 'zod';
import { keyUsages } from './keyCrypto/header.ts';

export { keyUsages, workingUsages, type KeyUsage, type WorkingUsage } from './keyCrypto/header.ts';

/** `cmac:` for AES keys, `enc0:` for TDES keys (DUKPT IPEKs), 6 upper-case hex digits (keyCrypto/kcv.ts). */
export const kcvString = z.string().regex(/^(cmac|enc0):[0-9A-F]{6}$/);
export const slotName = z.string().regex(/^(tmk|tpk|tak|tdk|dukpt)(\.[0-9]{1,3})?$/);
/** How an item's `block` is written: `pfk1` base64 of PFK1 bytes, `tr31` the TR-31 block's own printable ASCII. */
export const keyBlockFormats = ['pfk1', 'tr31'] as const;
export type KeyBlockFormat = (typeof keyBlockFormats)[number];

/** DUKPT variants: AES (ANSI X9.24-3-2017) with a 128- or 256-bit BDK, TDES (X9.24-1) for older terminals. */
export const dukptSchemes = ['aes128', 'aes256', 'tdes'] as const;
export type DukptScheme = (typeof dukptSchemes)[number];

/** What an IK item says of its initial key (docs/keys.md, "DUKPT injection"). */
export const dukptInstallInfo = z.object({
  scheme: z.enum(dukptSchemes),
  /** Initial KSN, upper-case hex: AES 24 digits (initial key id ‖ counter 00000000), TDES 20 (counter bits 0). */
  ksn: z.string().regex(/^([0-9A-F]{20}|[0-9A-F]{24})$/),
  /** KCV of the BDK the initial key comes from (to tell key sets apart; not a secret). */
  bdkKcv: kcvString,
});
export type DukptInstallInfo = z.infer<typeof dukptInstallInfo>;

/** One key to install. TMK items come first; working keys may be under a TMK of the same command. */
export const keyInstallItem = z.object({
  slot: slotName,
  usage: z.enum(keyUsages),
  keyId: z.string().min(1).max(64),
  version: z.number().int().min(1),
  /** What the server computed; the agent refuses the key if its own KCV differs. */
  kcv: kcvString,
  /** Absent means `pfk1`, as servers before TR-31 sent it. A TMK is always `pfk1` (under the KEK). */
  format: z.enum(keyBlockFormats).default('pfk1'),
  block: z.string().min(1).max(4096),
  /** Only on an IK item (slot `dukpt`). */
  dukpt: dukptInstallInfo.optional(),
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

/** A KSN as upper-case hex: AES 24 digits (initial key id ‖ counter), TDES 20. */
const ksnHex = z.string().regex(/^([0-9A-F]{20}|[0-9A-F]{24})$/);

/** A DUKPT slot's transaction counter as the terminal reports it (docs/keys.md "DUKPT injection"). */
export const dukptState = z.object({
  scheme: z.enum(dukptSchemes),
  /** The KSN of the last counter used; the initial KSN while none is. */
  ksn: ksnHex,
  /** The last counter used, 0 while none is. */
  counter: z.number().int().nonnegative(),
  /** Usable counters after `counter`; at 0 the slot refuses transactions until a new initial key. */
  countersLeft: z.number().int().nonnegative(),
});
export type DukptState = z.infer<typeof dukptState>;

/** One entry of the device's key inventory: never the key. */
export const inventoryEntry = z.object({
  slot: slotName,
  usage: z.enum(keyUsages),
  keyId: z.string(),
  version: z.number().int(),
  kcv: kcvString,
  installedAt: z.number().int().optional(),
  /** Only for a `dukpt` slot. */
  dukpt: dukptState.optional(),
});
export type InventoryEntry = z.infer<typeof inventoryEntry>;

/** The terminal's round trip after an initial key: PIN 1234, PAN 4111111111111111, at its next counter. */
export const dukptCheck = z.object({
  slot: slotName,
  ksn: ksnHex,
  /** Upper-case hex: AES ISO 9564 format 4 (16 bytes), TDES format 0 (8 bytes). */
  pinBlock: z.string().regex(/^([0-9A-F]{16}|[0-9A-F]{32})$/),
});
export type DukptCheck = z.infer<typeof dukptCheck>;

/** `result` of a succeeded `keys.install` ack. */
export const keysInstallResult = z.looseObject({
  installed: z.array(inventoryEntry.pick({ slot: true, usage: true, keyId: true, version: true, kcv: true })),
  inventory: z.array(inventoryEntry),
  /** When the command installed an initial key (the first one of the command). */
  dukptCheck: dukptCheck.optional(),
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
