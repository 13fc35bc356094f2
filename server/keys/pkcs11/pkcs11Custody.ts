// The PKCS#11 custody: keys are generated, sealed (wrapped), check-valued and derived inside the
// token; the server holds only the sealed tokens of keyObjects.ts. A clear key leaves the token
// only through openForTransport (see toClear), wiped when its wrap for the terminal returns.
import { custodyKeyBytes, isTdes, refAad, sealedGen, VaultError, type CustodyKeyType, type CustodyRef, type HeldKey, type KeyCustody, type SealedKey } from '../keyCustody.ts';
import { createKey, generateKey, kcvIn, keyTemplate, seal, toClear, unseal, type MasterHandles } from './keyObjects.ts';
import { P, type AesCbcParams, type Handle, type Token } from './token.ts';

const SOFTHSM = /softhsm/i;

export function createPkcs11Custody(token: Token, masters: MasterHandles): KeyCustody {
  const simulated = SOFTHSM.test(token.description.manufacturer) || SOFTHSM.test(token.description.model);
  const notice = simulated
    ? `PKCS#11 vault on a SoftHSM2 token (${token.description.model}): the key handling of an HSM, but SoftHSM2 is itself software, NOT an HSM and NOT PCI-certified`
    : `PKCS#11 vault on ${token.description.manufacturer} ${token.description.model}: keys are generated, wrapped and check-valued inside the token`;

  /** Seals a session key under the current master generation, then destroys it. */
  function sealAndDiscard(ref: CustodyRef, type: CustodyKeyType, key: Handle): SealedKey {
    try {
      return { ...seal(token, masters, refAad(ref), type, key), kcv: kcvIn(token, type, key) };
    } finally {
      token.discard(key);
    }
  }

  function withKey<T>(k: HeldKey, fn: (type: CustodyKeyType, key: Handle) => T): T {
    const { type, handle } = unseal(token, masters, refAad(k.ref), k.sealed, k.ref.keyId);
    try {
      return fn(type, handle);
    } finally {
      token.discard(handle);
    }
  }

  /**
   * One cipher block: CKM_AES_CBC_ENCRYPT_DATA with a zero IV, which is ECB on one block (pkcs11js
   * cannot pass the CK_KEY_DERIVATION_STRING_DATA that CKM_*_ECB_ENCRYPT_DATA takes). Longer data:
   * C_Encrypt in ECB inside the token, the result imported at once (docs/keys.md, "HSM (PKCS#11)").
   */
  function derive(baseType: CustodyKeyType, base: Handle, data: Buffer, type: CustodyKeyType): Handle {
    if (!isTdes(baseType) && !isTdes(type) && data.length === 16) {
      const parameter: AesCbcParams = { type: P.CK_PARAMS_AES_CBC, iv: Buffer.alloc(16), data };
      return token.p11.C_DeriveKey(token.session, { mechanism: P.CKM_AES_CBC_ENCRYPT_DATA, parameter }, base, [...keyTemplate(type), { type: P.CKA_VALUE_LEN, value: 16 }]);
    }
    token.p11.C_EncryptInit(token.session, { mechanism: isTdes(baseType) ? P.CKM_DES3_ECB : P.CKM_AES_ECB }, base);
    return createKey(token, type, token.p11.C_Encrypt(token.session, data, Buffer.alloc(data.length)));
  }

  return {
    info: () => ({ kind: 'pkcs11', simulated, notice, masterGen: masters.current().gen, token: token.description }),
    generate: (ref, type) => sealAndDiscard(ref, type, generateKey(token, type)),
    importClear: (ref, type, clear) => sealAndDiscard(ref, type, createKey(token, type, clear)),
    deriveByEcb(base, data, ref, type) {
      if (data.length !== custodyKeyBytes[type]) throw new VaultError(`derivation data of ${data.length} bytes makes no ${type} key`);
      return withKey(base, (baseType, b) => sealAndDiscard(ref, type, derive(baseType, b, data, type)));
    },
    openForTransport: (k, wrap) =>
      withKey(k, (type, key) => {
        const clear = toClear(token, type, key);
        try {
          return wrap(clear);
        } finally {
          clear.fill(0);
        }
      }),
    reseal(k) {
      if (sealedGen(k.sealed) === masters.current().gen) return null;
      return withKey(k, (type, key) => ({ ...seal(token, masters, refAad(k.ref), type, key), kcv: kcvIn(token, type, key) }));
    },
  };
}
