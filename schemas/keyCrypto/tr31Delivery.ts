// A key delivered to a terminal as a TR-31 version D block (docs/keys.md, "Working keys under the
// TMK"): which X9.143 header fields and optional blocks carry what posfleet binds a key to (device,
// slot, key id, version, wrapping key), and its KCV. Pure, shared by the server and the agent; any
// X9.143 key usage fits (working keys here, DUKPT initial keys with their IK / KS blocks elsewhere).
//
// X9.143's key version field has two characters and posfleet's versions go to 2^31 - 1, so the
// field says `00` (not versioned there) and the version travels in a block of its own. Numeric
// block ids are left to proprietary use by X9.143: a third-party reader skips them and still
// verifies the block.
import { kcv, kcvMethods, parseKcv, type KcvMethod } from './kcv.ts';
import { KeyBlockError } from './header.ts';
import { DEVICE_BLOCK_ID, PADDING_BLOCK_ID, parseHeader, unwrapTr31, wrapTr31, type Tr31Header, type Tr31OptionalBlock, type Tr31Protection } from './tr31.ts';

export const KEY_ID_BLOCK_ID = '02';
export const VERSION_BLOCK_ID = '03';
export const SLOT_BLOCK_ID = '04';
export const WRAPPING_KEY_BLOCK_ID = '05';
/** X9.143's KCV block: the KCV algorithm (`00` legacy encryption of zeros, `01` CMAC) and the check value in hex. */
export const KCV_BLOCK_ID = 'KC';
const kcvAlgorithm: Readonly<Record<KcvMethod, string>> = { enc0: '00', cmac: '01' };

/** What posfleet binds a delivered key to; each travels in its own optional block. */
export interface Tr31Binding {
  deviceId: string;
  keyId: string;
  /** 1 .. 2^31 - 1, decimal without leading zeros in its block. */
  version: number;
  slot: string;
  /** The key id of the KBPK (the TMK) the block is under. */
  wrappingKeyId: string;
}

export interface Tr31Delivery extends Tr31Binding {
  /** X9.143 key usage, e.g. P0, M6, D0, B1. */
  keyUsage: string;
  /** A (AES), T (TDES)… */
  algorithm: string;
  modeOfUse: string;
  exportability: 'E' | 'N' | 'S';
  /** The KCV the block carries in its KC block (`cmac:XXXXXX` / `enc0:XXXXXX`), if it has one. */
  kcv?: string;
  /** Further optional blocks (IK, KS of a DUKPT initial key…), in order, after posfleet's. */
  blocks: Tr31OptionalBlock[];
}

const bad = (message: string) => new KeyBlockError('bad_block', message);
const VALUE = /^[A-Za-z0-9._:-]{1,64}$/;
const VERSION = /^[1-9][0-9]{0,9}$/;
const MAX_VERSION = 2 ** 31 - 1;
const bindingBlocks = [DEVICE_BLOCK_ID, KEY_ID_BLOCK_ID, VERSION_BLOCK_ID, SLOT_BLOCK_ID, WRAPPING_KEY_BLOCK_ID] as const;
const posfleetIds: readonly string[] = [...bindingBlocks, KCV_BLOCK_ID, PADDING_BLOCK_ID];

function checkBinding(b: Tr31Binding): void {
  for (const [name, value] of [['device id', b.deviceId], ['key id', b.keyId], ['slot', b.slot], ['wrapping key id', b.wrappingKeyId]] as const) {
    if (!VALUE.test(value)) throw bad(`the ${name} of a TR-31 delivery is 1..64 characters of [A-Za-z0-9._:-]`);
  }
  if (!Number.isInteger(b.version) || b.version < 1 || b.version > MAX_VERSION) throw bad('a key version is 1..2^31-1');
}

/** The TR-31 header of a delivery: X9.143's fields, then 01 device, 02 key id, 03 version, 04 slot, 05 wrapping key, KC, the rest. */
export function deliveryHeader(d: Tr31Delivery): Tr31Header {
  checkBinding(d);
  const own = d.blocks.find((b) => posfleetIds.includes(b.id));
  if (own) throw bad(`optional block ${own.id} is posfleet's own; it cannot be given as a further block`);
  const kc = d.kcv === undefined ? [] : [kcvBlock(d.kcv)];
  return {
    versionId: 'D',
    keyUsage: d.keyUsage,
    algorithm: d.algorithm,
    modeOfUse: d.modeOfUse,
    keyVersionNumber: '00',
    exportability: d.exportability,
    keyContext: '0',
    optionalBlocks: [
      { id: DEVICE_BLOCK_ID, data: d.deviceId },
      { id: KEY_ID_BLOCK_ID, data: d.keyId },
      { id: VERSION_BLOCK_ID, data: String(d.version) },
      { id: SLOT_BLOCK_ID, data: d.slot },
      { id: WRAPPING_KEY_BLOCK_ID, data: d.wrappingKeyId },
      ...kc,
      ...d.blocks,
    ],
  };
}

function kcvBlock(text: string): Tr31OptionalBlock {
  const { method, value } = parseKcv(text);
  return { id: KCV_BLOCK_ID, data: `${kcvAlgorithm[method]}${value.toString('hex').toUpperCase()}` };
}

function readKcvBlock(data: string): string {
  const method = kcvMethods.find((m) => kcvAlgorithm[m] === data.slice(0, 2));
  // X9.24-1 allows 5-byte CMAC check values; posfleet compares the first 3 bytes, as it writes them.
  if (!method || !/^[0-9A-F]{6,10}$/.test(data.slice(2))) throw bad('a KC block is 00 or 01 and 6 to 10 upper-case hex digits');
  return `${method}:${data.slice(2, 8)}`;
}

/** posfleet's reading of a parsed header; refuses one that lacks a binding block, repeats one, or holds a malformed one. */
export function readDelivery(h: Tr31Header): Tr31Delivery {
  if (h.keyVersionNumber !== '00') throw bad('posfleet sends its key version in optional block 03; the key version field must be 00');
  const single = (id: string): string | undefined => {
    const found = h.optionalBlocks.filter((b) => b.id === id);
    if (found.length > 1) throw bad(`optional block ${id} appears more than once`);
    return found[0]?.data;
  };
  const required = (id: string, what: string): string => {
    const data = single(id);
    if (data === undefined) throw bad(`a posfleet TR-31 block carries the ${what} in optional block ${id}`);
    return data;
  };
  const version = required(VERSION_BLOCK_ID, 'key version');
  if (!VERSION.test(version) || Number(version) > MAX_VERSION) throw bad('the key version block holds 1..2^31-1 in decimal without leading zeros');
  const kc = single(KCV_BLOCK_ID);
  const d: Tr31Delivery = {
    keyUsage: h.keyUsage,
    algorithm: h.algorithm,
    modeOfUse: h.modeOfUse,
    exportability: h.exportability,
    deviceId: required(DEVICE_BLOCK_ID, 'device id'),
    keyId: required(KEY_ID_BLOCK_ID, 'key id'),
    version: Number(version),
    slot: required(SLOT_BLOCK_ID, 'slot'),
    wrappingKeyId: required(WRAPPING_KEY_BLOCK_ID, 'wrapping key id'),
    ...(kc === undefined ? {} : { kcv: readKcvBlock(kc) }),
    blocks: h.optionalBlocks.filter((b) => !posfleetIds.includes(b.id)),
  };
  checkBinding(d);
  return d;
}

export interface Tr31DeliveryInput {
  delivery: Omit<Tr31Delivery, 'kcv'>;
  key: Uint8Array;
  /** The TMK, or the KBEK and KBMK derived from it once for all of a device's keys. */
  kbpk: Tr31Protection;
  /** Adds a KC block with the key's KCV by this method. */
  kcvMethod?: KcvMethod;
  /** Fixed only for test vectors; otherwise random. */
  padding?: Uint8Array;
}

/** The key as a TR-31 version D block bound to its device, slot, id, version and wrapping key. */
export function deliveryTr31(input: Tr31DeliveryInput): string {
  const d: Tr31Delivery = { ...input.delivery, ...(input.kcvMethod ? { kcv: kcv(input.kcvMethod, input.key) } : {}) };
  return wrapTr31({ header: deliveryHeader(d), key: input.key, kbpk: input.kbpk, ...(input.padding ? { padding: input.padding } : {}) });
}

/** What a block says before any key opens it: enough to check device, slot and version and to pick the KBPK. */
export function readDeliveryTr31(block: string): Tr31Delivery {
  return readDelivery(parseHeader(block).header);
}

/** Verifies the block's MAC under the KBPK and returns the delivery and the key. */
export function openDeliveryTr31(block: string, kbpk: Tr31Protection): { delivery: Tr31Delivery; key: Buffer } {
  const { header, key } = unwrapTr31(block, kbpk);
  try {
    return { delivery: readDelivery(header), key };
  } catch (err) {
    key.fill(0);
    throw err;
  }
}
