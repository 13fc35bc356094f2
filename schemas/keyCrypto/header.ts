// The key block header (SPEC §5, docs/keys.md): what a wrapped key is for, bound to the block
// as AES-GCM additional data so it cannot move to another device, slot or version.
//
//   usage=TPK;alg=AES256;ver=2;kid=key_x;dev=dev_y;slot=tpk;wk=key_z
//
// ASCII, these seven fields in this order, `;` between fields, `=` between name and value;
// values match [A-Za-z0-9._:-]{1,64} (ver: a decimal integer 1..2^31-1 without leading zeros),
// so no escaping exists and the encoding is canonical: one header, one byte string.

/** IK: a DUKPT initial key (slot `dukpt`), derived from a BDK, never rotated by age. */
export const keyUsages = ['TMK', 'TPK', 'TAK', 'TDK', 'IK'] as const;
export type KeyUsage = (typeof keyUsages)[number];
/** The usages the vault generates fresh and rotations and age policies replace. */
export const rotatableUsages = ['TMK', 'TPK', 'TAK', 'TDK'] as const;
export type RotatableUsage = (typeof rotatableUsages)[number];
export const workingUsages = ['TPK', 'TAK', 'TDK'] as const;
export type WorkingUsage = (typeof workingUsages)[number];
export const KEY_ALGORITHM = 'AES256';
/** `wk` of a TMK: it travels under the device's key-encryption key. */
export const WRAPPED_BY_KEK = 'KEK';

export interface KeyBlockHeader {
  usage: KeyUsage;
  alg: typeof KEY_ALGORITHM;
  /** Version of the key in its slot on that device: 1, 2, 3… never reused, never lower. */
  ver: number;
  /** Key id (the server's, e.g. `key_…`). */
  kid: string;
  /** Device id the key is for. */
  dev: string;
  /** Slot on the device (`tmk`, `tpk`, `tak`, `tdk`, or `<usage>.<n>`). */
  slot: string;
  /** Wrapping key: `KEK` for a TMK, else the key id of the TMK the block is under. */
  wk: string;
}

const FIELDS = ['usage', 'alg', 'ver', 'kid', 'dev', 'slot', 'wk'] as const;
const VALUE = /^[A-Za-z0-9._:-]{1,64}$/;
const VER = /^[1-9][0-9]{0,9}$/;

export class KeyBlockError extends Error {
  constructor(
    readonly code: 'bad_block' | 'unwrap_failed',
    message: string,
  ) {
    super(message);
    this.name = 'KeyBlockError';
  }
}

/** Whether `slot` is a slot for keys of `usage`: `tpk` or `tpk.<n>` for TPK, and so on; `dukpt` for IK. */
export function slotFitsUsage(slot: string, usage: KeyUsage): boolean {
  const base = usage === 'IK' ? 'dukpt' : usage.toLowerCase();
  return slot === base || new RegExp(`^${base}\\.[0-9]{1,3}$`).test(slot);
}

export function encodeHeader(h: KeyBlockHeader): Buffer {
  const values: Record<(typeof FIELDS)[number], string> = { ...h, ver: String(h.ver) };
  for (const f of FIELDS) if (!VALUE.test(values[f])) throw new KeyBlockError('bad_block', `header field ${f} is not encodable`);
  if (!(keyUsages as readonly string[]).includes(h.usage) || h.alg !== KEY_ALGORITHM || !Number.isInteger(h.ver) || h.ver < 1 || h.ver > 2 ** 31 - 1) {
    throw new KeyBlockError('bad_block', 'header has a bad usage, algorithm or version');
  }
  return Buffer.from(FIELDS.map((f) => `${f}=${values[f]}`).join(';'), 'ascii');
}

export function decodeHeader(bytes: Uint8Array): KeyBlockHeader {
  const text = Buffer.from(bytes).toString('latin1');
  const parts = text.split(';');
  if (parts.length !== FIELDS.length) throw new KeyBlockError('bad_block', 'header must have 7 fields');
  const out: Record<string, string> = {};
  parts.forEach((p, i) => {
    const eq = p.indexOf('=');
    const name = p.slice(0, eq);
    const value = p.slice(eq + 1);
    if (eq < 1 || name !== FIELDS[i] || !VALUE.test(value)) throw new KeyBlockError('bad_block', `header field ${i + 1} is malformed`);
    out[name] = value;
  });
  if (!VER.test(out.ver!)) throw new KeyBlockError('bad_block', 'header version is malformed');
  const usage = keyUsages.find((u) => u === out.usage);
  if (!usage || out.alg !== KEY_ALGORITHM) throw new KeyBlockError('bad_block', 'header has a bad usage or algorithm');
  const h: KeyBlockHeader = { usage, alg: KEY_ALGORITHM, ver: Number(out.ver), kid: out.kid!, dev: out.dev!, slot: out.slot!, wk: out.wk! };
  // Canonical: re-encoding must give the same bytes (rejects e.g. an unknown usage or algorithm).
  if (!encodeHeader(h).equals(Buffer.from(bytes))) throw new KeyBlockError('bad_block', 'header is not canonical');
  return h;
}
