// The one interface between key management and its key blocks: keyService asks for keys and for
// the blocks a terminal receives; vaultOperations.ts builds them over a KeyCustody (the software
// simulation or a PKCS#11 HSM). Key material never leaves the custody in the clear except to be
// wrapped for a terminal at once: the rest of the server only handles `sealed` tokens (opaque,
// stored in the database), KCVs and key blocks that only the target device can open.
import type { KeyBlockHeader, KeyUsage } from '../../schemas/keyCrypto/header.ts';
import type { KeyInstallItem } from '../../schemas/keys.ts';
import type { CustodyInfo, SealedKey } from './keyCustody.ts';

export type { SealedKey } from './keyCustody.ts';

/** What a sealed key is bound to: changing any field makes it unopenable. */
export interface KeyRef {
  keyId: string;
  deviceId: string;
  usage: KeyUsage;
  version: number;
}

export type VaultInfo = CustodyInfo;

/** A block as a keys.install item carries it: its format and its text (base64 for PFK1, the TR-31 ASCII itself). */
export type WireBlock = Pick<KeyInstallItem, 'format' | 'block'>;

/** A working key to travel under a TMK: a fresh one the vault generates, or one it holds already. */
export type UnderTmkItem = { header: KeyBlockHeader } & ({ generate: KeyRef } | { key: { ref: KeyRef; sealed: string } });

export interface KeyVault {
  info(): VaultInfo;
  /** A fresh random AES-256 key, sealed. Never derived from another key. */
  generate(ref: KeyRef): SealedKey;
  /** The TMK as a PFK1 block under the device's X25519 KEK (raw 32-byte public key). */
  exportTmk(tmk: { ref: KeyRef; sealed: string }, header: KeyBlockHeader, kekPublicKey: Uint8Array): Buffer;
  /** A working key as a block under its TMK (TR-31). */
  exportUnderTmk(key: { ref: KeyRef; sealed: string }, tmk: { ref: KeyRef; sealed: string }, header: KeyBlockHeader): WireBlock;
  /** A fresh random TMK, sealed, and its PFK1 block under the device's X25519 KEK, in one operation. */
  generateTmk(ref: KeyRef, header: KeyBlockHeader, kekPublicKey: Uint8Array): SealedKey & { block: Buffer };
  /**
   * One device's working keys as blocks under its TMK, in the order given, the TMK opened once
   * for all of them: fresh ones are generated and sealed in the custody, then wrapped.
   */
  underTmk(tmk: { ref: KeyRef; sealed: string }, items: readonly UnderTmkItem[]): Array<{ block: WireBlock; generated?: SealedKey }>;
  /** Master-key replacement: the same key under the new generation (null: already there). */
  reseal(key: { ref: KeyRef; sealed: string }): SealedKey | null;
}
