// One PKCS#11 token, opened once per server: the library (HSM_PKCS11_LIBRARY), the slot found by
// number or token label, one logged-in read/write session (the binding's calls are synchronous,
// so one session serves every operation in turn) and the few object helpers the custody and the
// master keys share. Objects posfleet creates are session objects (gone with the session) except
// the master keys, which are token objects found by label.
import { readFileSync } from 'node:fs';
import pkcs11js from 'pkcs11js';
import { VaultError } from '../keyCustody.ts';

export type Template = pkcs11js.Template;
export type Handle = pkcs11js.Handle;
export type AesCbcParams = pkcs11js.AesCBC;


export interface TokenOptions {
  library: string;
  /** Slot id, or else the token's label. */
  slot?: number;
  tokenLabel?: string;
  /** The user PIN is read from this file (never from the environment or argv). */
  pinFile: string;
}

export interface TokenDescription {
  label: string;
  manufacturer: string;
  model: string;
  serial: string;
}

export interface Token {
  readonly p11: pkcs11js.PKCS11;
  readonly session: Handle;
  readonly description: TokenDescription;
  /** The secret-key token objects with this label (several only if two instances raced to create one). */
  findByLabel(label: string): Handle[];
  /** Destroys a session object made for one operation; never throws (it goes with the session anyway). */
  discard(...handles: Array<Handle | null | undefined>): void;
  close(): void;
}

export const P = pkcs11js;

const trimmed = (s: string) => s.replace(/\0/g, '').trim();

function readPin(file: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new VaultError(`HSM_PIN_FILE ${file} cannot be read`, { cause: err });
  }
  const pin = text.replace(/\r?\n$/, '');
  if (!pin) throw new VaultError(`HSM_PIN_FILE ${file} is empty`);
  return pin;
}

function findSlot(p11: pkcs11js.PKCS11, opts: TokenOptions): Handle {
  const slots = p11.C_GetSlotList(true);
  if (opts.slot !== undefined) {
    const s = slots.find((h) => h.readUIntLE(0, Math.min(h.length, 6)) === opts.slot);
    if (!s) throw new VaultError(`HSM_SLOT ${opts.slot}: no slot with a token has this id`);
    return s;
  }
  const s = slots.find((h) => trimmed(p11.C_GetTokenInfo(h).label) === opts.tokenLabel);
  if (!s) throw new VaultError(`HSM_TOKEN_LABEL ${opts.tokenLabel}: no token has this label`);
  return s;
}

// A PKCS#11 library is initialised once per process, whoever loads it (tests run several
// servers in one process): C_Finalize only when the last token opened through it closes.
const openedPerLibrary = new Map<string, number>();

function initialize(p11: pkcs11js.PKCS11, library: string): void {
  try {
    p11.C_Initialize();
  } catch (err) {
    if (!(err instanceof pkcs11js.Pkcs11Error && err.code === pkcs11js.CKR_CRYPTOKI_ALREADY_INITIALIZED)) throw err;
  }
  openedPerLibrary.set(library, (openedPerLibrary.get(library) ?? 0) + 1);
}

function finalize(p11: pkcs11js.PKCS11, library: string): void {
  const n = (openedPerLibrary.get(library) ?? 1) - 1;
  if (n > 0) return void openedPerLibrary.set(library, n);
  openedPerLibrary.delete(library);
  p11.C_Finalize();
}

export function openToken(opts: TokenOptions): Token {
  const pin = readPin(opts.pinFile);
  const p11 = new pkcs11js.PKCS11();
  try {
    p11.load(opts.library);
  } catch (err) {
    throw new VaultError(`HSM_PKCS11_LIBRARY ${opts.library} does not load as a PKCS#11 library`, { cause: err });
  }
  let initialized = false;
  try {
    initialize(p11, opts.library);
    initialized = true;
    const slot = findSlot(p11, opts);
    const info = p11.C_GetTokenInfo(slot);
    const s = p11.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION);
    try {
      p11.C_Login(s, pkcs11js.CKU_USER, pin);
    } catch (err) {
      // Logging in is per token and application: another session of this process did it already.
      if (!(err instanceof pkcs11js.Pkcs11Error && err.code === pkcs11js.CKR_USER_ALREADY_LOGGED_IN)) {
        p11.C_CloseSession(s);
        throw err;
      }
    }
    return {
      p11,
      session: s,
      description: { label: trimmed(info.label), manufacturer: trimmed(info.manufacturerID), model: trimmed(info.model), serial: trimmed(info.serialNumber) },
      findByLabel(label) {
        p11.C_FindObjectsInit(s, [
          { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
          { type: pkcs11js.CKA_TOKEN, value: true },
          { type: pkcs11js.CKA_LABEL, value: label },
        ]);
        try {
          return p11.C_FindObjects(s, 16);
        } finally {
          p11.C_FindObjectsFinal(s);
        }
      },
      discard(...handles) {
        for (const h of handles) {
          if (!h) continue;
          try {
            p11.C_DestroyObject(s, h);
          } catch {
            // A session object goes with the session: nothing is left behind for long.
          }
        }
      },
      close() {
        // No C_Logout: it would log out every session of this process on the token; closing the
        // last session ends the login.
        try {
          p11.C_CloseSession(s);
        } finally {
          finalize(p11, opts.library);
        }
      },
    };
  } catch (err) {
    if (initialized) finalize(p11, opts.library);
    if (err instanceof VaultError) throw err;
    throw new VaultError(`PKCS#11 token could not be opened: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}
