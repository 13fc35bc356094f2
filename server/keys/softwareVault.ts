// The software vault: a SIMULATION of an HSM, not PCI-certified. Keys are generated with the
// platform CSPRNG and kept only as AES-256-GCM ciphertext under the master key, with AAD binding
// key id, device, usage and version:
//   sealed = base64( gen uint32 BE ‖ nonce 12 ‖ ciphertext 32 ‖ tag 16 )
//   AAD    = "posfleet-vault/v1;kid=…;dev=…;usage=…;ver=…"
// Clear keys exist only inside these functions, in buffers wiped after use.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { keyCheckValue } from '../../schemas/keyCrypto/cmac.ts';
import type { KeyBlockHeader } from '../../schemas/keyCrypto/header.ts';
import { kbek, KEY_BYTES, sealTmkBlock, sealWorkingBlock, sealWorkingBlockUnderKbek } from '../../schemas/keyCrypto/keyBlock.ts';
import type { KeyRef, KeyVault, SealedKey } from './keyVault.ts';

export const SOFTWARE_VAULT_NOTICE =
  'software vault: a simulation of an HSM for development and tests; it is NOT PCI-certified and NOT an HSM. Replace it with a real HSM or KMS behind KeyVault for production.';

const refAad = (r: KeyRef) => Buffer.from(`posfleet-vault/v1;kid=${r.keyId};dev=${r.deviceId};usage=${r.usage};ver=${r.version}`, 'utf8');

export class VaultError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'VaultError';
  }
}

export interface MasterKeys {
  /** Generation → key; the vault seals with `current`. */
  get(gen: number): Buffer | undefined;
  current(): { gen: number; key: Buffer };
}

function sealUnder(gen: number, master: Buffer, ref: KeyRef, clear: Buffer): string {
  const nonce = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', master, nonce);
  c.setAAD(refAad(ref));
  const ct = Buffer.concat([c.update(clear), c.final()]);
  const g = Buffer.alloc(4);
  g.writeUInt32BE(gen);
  return Buffer.concat([g, nonce, ct, c.getAuthTag()]).toString('base64');
}

export const sealedGen = (sealed: string) => Buffer.from(sealed, 'base64').readUInt32BE(0);

export function createSoftwareVault(masters: MasterKeys): KeyVault {
  function open(ref: KeyRef, sealed: string): Buffer {
    const b = Buffer.from(sealed, 'base64');
    if (b.length !== 4 + 12 + KEY_BYTES + 16) throw new VaultError(`sealed key ${ref.keyId} is malformed`);
    const master = masters.get(b.readUInt32BE(0));
    if (!master) throw new VaultError(`sealed key ${ref.keyId} is under an unknown master-key generation`);
    try {
      const d = createDecipheriv('aes-256-gcm', master, b.subarray(4, 16));
      d.setAAD(refAad(ref));
      d.setAuthTag(b.subarray(16 + KEY_BYTES));
      return Buffer.concat([d.update(b.subarray(16, 16 + KEY_BYTES)), d.final()]);
    } catch (err) {
      throw new VaultError(`sealed key ${ref.keyId} does not open for this id, device, usage and version`, { cause: err });
    }
  }

  function withClear<T>(ref: KeyRef, sealed: string, fn: (k: Buffer) => T): T {
    const k = open(ref, sealed);
    try {
      return fn(k);
    } finally {
      k.fill(0);
    }
  }

  /** A fresh key, sealed, handed to `use` in the clear (wiped after) for what else it must become. */
  function fresh<T>(ref: KeyRef, use: (clear: Buffer) => T): SealedKey & T {
    const clear = randomBytes(KEY_BYTES);
    try {
      const { gen, key } = masters.current();
      return { sealed: sealUnder(gen, key, ref, clear), masterGen: gen, kcv: keyCheckValue(clear), ...use(clear) };
    } finally {
      clear.fill(0);
    }
  }

  return {
    info: () => ({ kind: 'software', simulated: true, notice: SOFTWARE_VAULT_NOTICE, masterGen: masters.current().gen }),
    generate: (ref) => fresh(ref, () => ({})),
    generateTmk: (ref, header, kekPublicKey) => fresh(ref, (key) => ({ block: sealTmkBlock({ header, key, kekPublicKey }) })),
    underTmk(tmk, items) {
      return withClear(tmk.ref, tmk.sealed, (t) => {
        const wrap = kbek(t);
        try {
          return items.map((item) => {
            const header = item.header;
            if ('key' in item) return { block: withClear(item.key.ref, item.key.sealed, (key) => sealWorkingBlockUnderKbek({ header, key, kbek: wrap })) };
            const { block, ...generated } = fresh(item.generate, (key) => ({ block: sealWorkingBlockUnderKbek({ header, key, kbek: wrap }) }));
            return { block, generated };
          });
        } finally {
          wrap.fill(0);
        }
      });
    },
    exportTmk(tmk, header: KeyBlockHeader, kekPublicKey) {
      return withClear(tmk.ref, tmk.sealed, (key) => sealTmkBlock({ header, key, kekPublicKey }));
    },
    exportUnderTmk(k, tmk, header) {
      return withClear(tmk.ref, tmk.sealed, (t) => withClear(k.ref, k.sealed, (key) => sealWorkingBlock({ header, key, tmk: t })));
    },
    reseal(k): SealedKey | null {
      const { gen, key } = masters.current();
      if (sealedGen(k.sealed) === gen) return null;
      return withClear(k.ref, k.sealed, (clear) => ({ sealed: sealUnder(gen, key, k.ref, clear), masterGen: gen, kcv: keyCheckValue(clear) }));
    },
  };
}
