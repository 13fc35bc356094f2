// The one interface between key management and whatever holds the keys. The software vault
// (softwareVault.ts) simulates an HSM; a real HSM (PKCS#11, payShield…) or a cloud KMS
// implements the same operations, and key material never leaves it in the clear: the rest of the
// server only handles `sealed` tokens (opaque, stored in the database), KCVs and key blocks that
// only the target device can open.
import type { KeyBlockHeader, KeyUsage } from '../../schemas/keyCrypto/header.ts';

/** What a sealed key is bound to: changing any field makes it unopenable. */
export interface KeyRef {
  keyId: string;
  deviceId: string;
  usage: KeyUsage;
  version: number;
}

export interface SealedKey {
  /** Opaque token to store (software vault: master-key ciphertext). */
  sealed: string;
  /** Master-key generation it is under. */
  masterGen: number;
  /** `cmac:XXXXXX`. */
  kcv: string;
}

export interface VaultInfo {
  kind: string;
  /** True for anything that is not a certified HSM. */
  simulated: boolean;
  notice: string;
  masterGen: number;
}

/** A working key to travel under a TMK: a fresh one the vault generates, or one it holds already. */
export type UnderTmkItem = { header: KeyBlockHeader } & ({ generate: KeyRef } | { key: { ref: KeyRef; sealed: string } });

export interface KeyVault {
  info(): VaultInfo;
  /** A fresh random key, sealed. Never derived from another key. */
  generate(ref: KeyRef): SealedKey;
  /** The TMK as a PFK1 block under the device's X25519 KEK (raw 32-byte public key). */
  exportTmk(tmk: { ref: KeyRef; sealed: string }, header: KeyBlockHeader, kekPublicKey: Uint8Array): Buffer;
  /** A working key as a PFK1 block under its TMK. */
  exportUnderTmk(key: { ref: KeyRef; sealed: string }, tmk: { ref: KeyRef; sealed: string }, header: KeyBlockHeader): Buffer;
  /** A fresh random TMK, sealed, and its PFK1 block under the device's X25519 KEK, in one operation. */
  generateTmk(ref: KeyRef, header: KeyBlockHeader, kekPublicKey: Uint8Array): SealedKey & { block: Buffer };
  /**
   * One device's working keys as PFK1 blocks under its TMK, in the order given, the TMK opened once
   * for all of them: fresh ones are generated, sealed and wrapped without being opened again.
   */
  underTmk(tmk: { ref: KeyRef; sealed: string }, items: readonly UnderTmkItem[]): Array<{ block: Buffer; generated?: SealedKey }>;
  /** Master-key replacement: the same key under the new generation (null: already there). */
  reseal(key: { ref: KeyRef; sealed: string }): SealedKey | null;
}
