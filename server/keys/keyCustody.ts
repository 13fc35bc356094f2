// What holds the keys: the primitives every vault backend offers (the software simulation, a
// PKCS#11 HSM). The key blocks a terminal receives (TMK under its KEK, TR-31 under the TMK, DUKPT
// initial keys) are built once, over these primitives (vaultOperations.ts), so both backends send
// the same bytes.
//
// Keys live only as `sealed` tokens (opaque to the rest of the server, stored in the database)
// bound to their ref: a token copied to another row does not open. Generation, KCVs and
// derivation happen inside the backend. `openForTransport` is the one door a clear key passes,
// only to be wrapped for a terminal at once: standard PKCS#11 (and SoftHSM2) has no mechanism
// that forms a TR-31 block or an X25519/HKDF wrap inside the token (docs/keys.md, "HSM (PKCS#11)").
import type { KeyUsage } from '../../schemas/keyCrypto/header.ts';

export const custodyKeyTypes = ['AES128', 'AES192', 'AES256', 'TDES2', 'TDES3'] as const;
export type CustodyKeyType = (typeof custodyKeyTypes)[number];

/** Bytes of a key of each type. */
export const custodyKeyBytes: Readonly<Record<CustodyKeyType, number>> = { AES128: 16, AES192: 24, AES256: 32, TDES2: 16, TDES3: 24 };
export const isTdes = (t: CustodyKeyType) => t === 'TDES2' || t === 'TDES3';

/** Usages beyond a terminal's slots: base derivation keys and DUKPT initial keys. */
export type CustodyUsage = KeyUsage | 'BDK' | 'IK';

/** What a sealed key is bound to: changing any field makes it unopenable. */
export interface CustodyRef {
  keyId: string;
  /** The device the key is for; `-` for a key of no device (a BDK). */
  deviceId: string;
  usage: CustodyUsage;
  version: number;
}

export interface SealedKey {
  /** Opaque token to store. */
  sealed: string;
  /** Master-key generation it is under. */
  masterGen: number;
  /** With its method: `cmac:XXXXXX` (AES), `enc0:XXXXXX` (TDES). */
  kcv: string;
}

export interface HeldKey {
  ref: CustodyRef;
  sealed: string;
}

/** What GET /v1/key-vault says of the backend. */
export interface CustodyInfo {
  kind: 'software' | 'pkcs11';
  /** True for anything that is not an HSM. */
  simulated: boolean;
  notice: string;
  masterGen: number;
  /** PKCS#11: the token as C_GetTokenInfo names it (a SoftHSM2 shows as such). */
  token?: { label: string; manufacturer: string; model: string; serial: string };
}

export interface KeyCustody {
  info(): CustodyInfo;
  /** A fresh random key of `type`, sealed. Never derived from another key. */
  generate(ref: CustodyRef, type: CustodyKeyType): SealedKey;
  /** A key entered in the clear (a ceremony's combined components), sealed; `clear` is wiped. */
  importClear(ref: CustodyRef, type: CustodyKeyType, clear: Buffer): SealedKey;
  /**
   * A new key = ECB encryption of `data` under `base` (PKCS#11 CKM_AES_ECB_ENCRYPT_DATA /
   * CKM_DES3_ECB_ENCRYPT_DATA): AES DUKPT initial keys, inside the backend. `data` is as long as
   * the new key (a multiple of the cipher's block).
   */
  deriveByEcb(base: HeldKey, data: Buffer, ref: CustodyRef, type: CustodyKeyType): SealedKey;
  /** The clear key, for `wrap` to put under a terminal's key at once; wiped when `wrap` returns. */
  openForTransport<T>(key: HeldKey, wrap: (clear: Buffer) => T): T;
  /** Master-key replacement: the same key under the current generation (null: already there). */
  reseal(key: HeldKey): SealedKey | null;
}

/** A sealed key that does not open (wrong ref, unknown master generation, malformed), or a backend failure. */
export class VaultError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'VaultError';
  }
}

/** The AAD (software) or binding-key input (PKCS#11) of a ref; unchanged since v1 so stored tokens still open. */
export const refAad = (r: CustodyRef) => `posfleet-vault/v1;kid=${r.keyId};dev=${r.deviceId};usage=${r.usage};ver=${r.version}`;

/** The master-key generation a sealed token is under (its first 4 bytes, both backends). */
export const sealedGen = (sealed: string) => Buffer.from(sealed, 'base64').readUInt32BE(0);
