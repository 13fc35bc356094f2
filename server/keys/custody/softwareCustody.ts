// The software custody: a SIMULATION of an HSM, not PCI-certified. Keys come from the platform
// CSPRNG and are kept only as AES-256-GCM ciphertext under the master key, with AAD binding key
// id, device, usage and version (refAad):
//   sealed = base64( gen uint32 BE ‖ nonce 12 ‖ ciphertext ‖ tag 16 )
// The plaintext of an AES-256 key is the key itself (the layout before other types existed, so
// stored tokens still open); any other type's is one type byte ‖ the key (17 or 25 bytes).
// Clear keys exist only inside these functions, in buffers wiped after use.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { custodyKeyBytes, custodyKeyTypes, refAad, sealedGen, VaultError, type CustodyKeyType, type CustodyRef, type HeldKey, type KeyCustody, type SealedKey } from '../keyCustody.ts';
import { checkLength, ecbEncrypt, kcvOf } from './clearKeyMath.ts';

export const SOFTWARE_VAULT_NOTICE =
  'software vault: a simulation of an HSM for development and tests; it is NOT PCI-certified and NOT an HSM. Replace it with a real HSM or KMS behind KeyVault for production.';

export interface MasterKeys {
  /** Generation → key; the custody seals with `current`. */
  get(gen: number): Buffer | undefined;
  current(): { gen: number; key: Buffer };
}

const HEAD = 4 + 12;
const TAG = 16;

function plaintextOf(type: CustodyKeyType, clear: Buffer): Buffer {
  return type === 'AES256' ? clear : Buffer.concat([Buffer.from([custodyKeyTypes.indexOf(type)]), clear]);
}

function keyOf(plain: Buffer): { type: CustodyKeyType; clear: Buffer } {
  if (plain.length === 32) return { type: 'AES256', clear: plain };
  const type = custodyKeyTypes[plain[0]!];
  const clear = Buffer.from(plain.subarray(1));
  plain.fill(0);
  if (!type || clear.length !== custodyKeyBytes[type]) {
    clear.fill(0);
    throw new VaultError('sealed key holds no key of a known type');
  }
  return { type, clear };
}

export function createSoftwareCustody(masters: MasterKeys): KeyCustody {
  function seal(ref: CustodyRef, type: CustodyKeyType, clear: Buffer): SealedKey {
    const { gen, key } = masters.current();
    const nonce = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', key, nonce);
    c.setAAD(Buffer.from(refAad(ref), 'utf8'));
    const plain = plaintextOf(type, clear);
    const ct = Buffer.concat([c.update(plain), c.final()]);
    if (plain !== clear) plain.fill(0);
    const g = Buffer.alloc(4);
    g.writeUInt32BE(gen);
    return { sealed: Buffer.concat([g, nonce, ct, c.getAuthTag()]).toString('base64'), masterGen: gen, kcv: kcvOf(type, clear) };
  }

  function open(k: HeldKey): { type: CustodyKeyType; clear: Buffer } {
    const b = Buffer.from(k.sealed, 'base64');
    if (![16, 24, 32].some((n) => b.length === HEAD + n + TAG || b.length === HEAD + n + 1 + TAG)) throw new VaultError(`sealed key ${k.ref.keyId} is malformed`);
    const master = masters.get(b.readUInt32BE(0));
    if (!master) throw new VaultError(`sealed key ${k.ref.keyId} is under an unknown master-key generation`);
    let plain: Buffer;
    try {
      const d = createDecipheriv('aes-256-gcm', master, b.subarray(4, HEAD));
      d.setAAD(Buffer.from(refAad(k.ref), 'utf8'));
      d.setAuthTag(b.subarray(b.length - TAG));
      plain = Buffer.concat([d.update(b.subarray(HEAD, b.length - TAG)), d.final()]);
    } catch (err) {
      throw new VaultError(`sealed key ${k.ref.keyId} does not open for this id, device, usage and version`, { cause: err });
    }
    return keyOf(plain);
  }

  function withOpen<T>(k: HeldKey, fn: (type: CustodyKeyType, clear: Buffer) => T): T {
    const { type, clear } = open(k);
    try {
      return fn(type, clear);
    } finally {
      clear.fill(0);
    }
  }

  function sealWiped(ref: CustodyRef, type: CustodyKeyType, clear: Buffer): SealedKey {
    try {
      checkLength(type, clear);
      return seal(ref, type, clear);
    } finally {
      clear.fill(0);
    }
  }

  return {
    info: () => ({ kind: 'software', simulated: true, notice: SOFTWARE_VAULT_NOTICE, masterGen: masters.current().gen }),
    generate: (ref, type) => sealWiped(ref, type, randomBytes(custodyKeyBytes[type])),
    importClear: (ref, type, clear) => sealWiped(ref, type, clear),
    deriveByEcb: (base, data, ref, type) =>
      withOpen(base, (baseType, b) => {
        const out = ecbEncrypt(baseType, b, data);
        if (out.length !== custodyKeyBytes[type]) {
          out.fill(0);
          throw new VaultError(`derivation data of ${data.length} bytes makes no ${type} key`);
        }
        return sealWiped(ref, type, out);
      }),
    openForTransport: (k, wrap) => withOpen(k, (_type, clear) => wrap(clear)),
    reseal(k) {
      if (sealedGen(k.sealed) === masters.current().gen) return null;
      return withOpen(k, (type, clear) => seal(k.ref, type, clear));
    },
  };
}
