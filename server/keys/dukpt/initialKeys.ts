// DUKPT initial keys in the vault (docs/keys.md, "DUKPT injection"): derived from a sealed BDK
// inside the custody and put under a terminal's TMK as a TR-31 block at once; and the host side
// of the terminal's round-trip check (its PIN block at its first counter, deciphered with the
// working key the BDK gives for that KSN).
//
// AES (X9.24-3): the initial key and every derivation key on the way to a counter's PIN key are
// ECB derivations in the custody (deriveByEcb); only the PIN working key of the check is opened,
// through the transport door, to decipher the check's PIN block — the terminal never uses a KSN
// twice, so that key protects nothing else.
// TDES (X9.24-1): each IPEK half is an ECB derivation (left under the BDK, right under the BDK
// variant sealed at the ceremony), held as a 16-byte key (base ‖ base encrypted); the two halves
// are joined only inside the transport door, where the block is formed (or the check's transaction
// key derived: its non-reversible steps are single-DES and xors no PKCS#11 derivation offers).
import { decipherPinBlock, type AesKeyType } from '../../../schemas/keyCrypto/dukptAes.ts';
import { decryptPinBlock, deriveTransactionKey } from '../../../schemas/keyCrypto/dukptTdes.ts';
import { kcv } from '../../../schemas/keyCrypto/kcv.ts';
import { deliveryTr31 } from '../../../schemas/keyCrypto/tr31Delivery.ts';
import { initialKeyIdBlock, keySetIdBlock } from '../../../schemas/keyCrypto/tr31.ts';
import type { DukptScheme } from '../../../schemas/keys.ts';
import type { CustodyRef, HeldKey, KeyCustody } from '../keyCustody.ts';
import { bdkRef, bdkVariantRef } from './bdkCeremony.ts';
import { CHECK_PAN, CHECK_PIN, counterSteps, ecbDerivationData, schemeKeys, tdesIpekData } from './dukptMath.ts';

/** What the vault needs of a BDK row. */
export interface HeldBdk {
  id: string;
  scheme: DukptScheme;
  sealed: string;
  variantSealed: string | null;
}

/** Where an initial key (and what is derived on the way) is sealed for the moment: bound to its terminal. */
export interface InitialKeyRef {
  keyId: string;
  deviceId: string;
  version: number;
  slot: string;
}

export interface Wrapped {
  kcv: string;
  block: string;
}

const ref = (k: InitialKeyRef, part: string): CustodyRef => ({ keyId: part ? `${k.keyId}.${part}` : k.keyId, deviceId: k.deviceId, usage: 'IK', version: k.version });

export function createInitialKeys(custody: () => KeyCustody) {
  const bdkHeld = (b: HeldBdk): HeldKey => ({ ref: bdkRef(b.id), sealed: b.sealed });

  function aesType(b: HeldBdk): AesKeyType {
    const t = schemeKeys[b.scheme].type;
    if (t !== 'AES128' && t !== 'AES256') throw new RangeError(`${b.scheme} is not an AES scheme`);
    return t;
  }

  /** AES: the initial key, sealed, derived in the custody. */
  function aesInitialKey(b: HeldBdk, k: InitialKeyRef, initialKeyId: Buffer): HeldKey & { kcv: string } {
    const type = aesType(b);
    const made = custody().deriveByEcb(bdkHeld(b), ecbDerivationData('initialKey', type, initialKeyId, 0), ref(k, ''), type);
    return { ref: ref(k, ''), sealed: made.sealed, kcv: made.kcv };
  }

  /** TDES: `use` gets the IPEK, joined from its two halves inside the transport door. */
  function withIpek<T>(b: HeldBdk, k: InitialKeyRef, ksn: Buffer, use: (ipek: Buffer) => T): T {
    if (!b.variantSealed) throw new RangeError(`TDES BDK ${b.id} has no sealed variant`);
    const c = custody();
    const data = tdesIpekData(ksn);
    const left = c.deriveByEcb(bdkHeld(b), data, ref(k, 'L'), 'AES128');
    const right = c.deriveByEcb({ ref: bdkVariantRef(b.id), sealed: b.variantSealed }, data, ref(k, 'R'), 'AES128');
    return c.openForTransport({ ref: ref(k, 'L'), sealed: left.sealed }, (l) =>
      c.openForTransport({ ref: ref(k, 'R'), sealed: right.sealed }, (r) => {
        const ipek = Buffer.concat([l.subarray(0, 8), r.subarray(0, 8)]);
        try {
          return use(ipek);
        } finally {
          ipek.fill(0);
        }
      }),
    );
  }

  return {
    /**
     * A terminal's initial key as a TR-31 block (usage B1, mode X) under its TMK, with its KCV.
     * `ksn`: the initial KSN (AES: initial key id ‖ 00000000).
     */
    wrap(b: HeldBdk, k: InitialKeyRef, ksn: Buffer, tmk: HeldKey): Wrapped {
      const c = custody();
      const { tr31Algorithm, kcvMethod } = schemeKeys[b.scheme];
      const delivery = (key: Buffer, kbpk: Buffer) =>
        deliveryTr31({
          delivery: {
            keyUsage: 'B1',
            algorithm: tr31Algorithm,
            modeOfUse: 'X',
            exportability: 'N',
            deviceId: k.deviceId,
            keyId: k.keyId,
            version: k.version,
            slot: k.slot,
            wrappingKeyId: tmk.ref.keyId,
            blocks: [b.scheme === 'tdes' ? keySetIdBlock(ksn) : initialKeyIdBlock(ksn.subarray(0, 8))],
          },
          key,
          kbpk,
          kcvMethod,
        });
      if (b.scheme === 'tdes') return withIpek(b, k, ksn, (ipek) => ({ kcv: kcv('enc0', ipek), block: c.openForTransport(tmk, (t) => delivery(ipek, t)) }));
      const ik = aesInitialKey(b, k, ksn.subarray(0, 8));
      return { kcv: ik.kcv, block: c.openForTransport(tmk, (t) => c.openForTransport(ik, (key) => delivery(key, t))) };
    },

    /** The PIN the check's block deciphers to at `ksn` (the terminal's), or a thrown reason. */
    checkPin(b: HeldBdk, k: InitialKeyRef, ksn: Buffer, pinBlock: Buffer): string {
      if (b.scheme === 'tdes') return withIpek(b, k, ksn, (ipek) => decryptPinBlock(deriveTransactionKey(ipek, ksn), pinBlock, CHECK_PAN));
      const c = custody();
      const type = aesType(b);
      const initialKeyId = ksn.subarray(0, 8);
      const counter = ksn.readUInt32BE(8);
      let key: HeldKey = aesInitialKey(b, k, initialKeyId);
      for (const step of counterSteps(counter)) {
        const r = ref(k, `d${step}`);
        key = { ref: r, sealed: c.deriveByEcb(key, ecbDerivationData('keyDerivation', type, initialKeyId, step), r, type).sealed };
      }
      const pinRef = ref(k, `p${counter}`);
      const pinKey = { ref: pinRef, sealed: c.deriveByEcb(key, ecbDerivationData('pinEncryption', type, initialKeyId, counter), pinRef, type).sealed };
      return c.openForTransport(pinKey, (clear) => decipherPinBlock(clear, pinBlock, CHECK_PAN));
    },
  };
}

export const isCheckPin = (pin: string) => pin === CHECK_PIN;

export type InitialKeys = ReturnType<typeof createInitialKeys>;
