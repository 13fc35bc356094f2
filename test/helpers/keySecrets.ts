// The clear secrets of a test run, recovered the way an auditor with the master key would, never
// through a server route: the vault's master keys from DATA_DIR (each matched to its generation by
// the KCV key_vault_masters records), every sealed key and BDK row opened with them by the layout
// of docs/keys.md ("Vault storage"), and each agent's secrets from its state dir (installed keys,
// the storage and secure-element keys, the KEK's private key). The scanner (secretScan.ts) then
// looks for all of them.
import { createDecipheriv } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isNotNull } from 'drizzle-orm';
import { openSecureStore } from '../../agent/keys/secureStore.ts';
import { openStateStore } from '../../agent/stateStore.ts';
import { keyCheckValue } from '../../schemas/keyCrypto/cmac.ts';
import { matchesKcv } from '../../schemas/keyCrypto/kcv.ts';
import { bdks, keys, keyVaultMasters } from '../../schemas/tables/keys.ts';
import type { Db } from '../../server/db/database.ts';
import { custodyKeyBytes, custodyKeyTypes } from '../../server/keys/keyCustody.ts';
import type { Secret } from './secretScan.ts';

const GEN_BYTES = 4;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const AES256_BYTES = 32;

/** What a sealed key is bound to (its AAD): a key row's id, device, usage and version; a BDK's id, `-`, `BDK`, 1. */
export interface SealedRef {
  keyId: string;
  deviceId: string;
  usage: string;
  version: number;
}

/**
 * Opens a vault-sealed key (gen ‖ nonce ‖ ct ‖ tag, AAD naming id, device, usage and version) with
 * its master key. The plaintext of an AES-256 key is the key; of any other type, one type byte
 * (custodyKeyTypes' index) ‖ the key.
 */
export function openSealedKey(master: Buffer, ref: SealedRef, sealed: string): Buffer {
  const b = Buffer.from(sealed, 'base64');
  const d = createDecipheriv('aes-256-gcm', master, b.subarray(GEN_BYTES, GEN_BYTES + NONCE_BYTES));
  d.setAAD(Buffer.from(`posfleet-vault/v1;kid=${ref.keyId};dev=${ref.deviceId};usage=${ref.usage};ver=${ref.version}`, 'utf8'));
  d.setAuthTag(b.subarray(b.length - TAG_BYTES));
  const plain = Buffer.concat([d.update(b.subarray(GEN_BYTES + NONCE_BYTES, b.length - TAG_BYTES)), d.final()]);
  if (plain.length === AES256_BYTES) return plain;
  const type = custodyKeyTypes[plain[0]!];
  if (!type || plain.length - 1 !== custodyKeyBytes[type]) throw new Error(`sealed ${ref.keyId} holds no key of a known type`);
  return plain.subarray(1);
}

/**
 * Every secret of a run, by bytes: a key seen twice (the same key in the vault and on a terminal)
 * keeps its first name. Keys leave the vault (superseded, revoked: their sealed value is wiped) and
 * terminals (zeroize), so a test harvests after each flow and the set only grows.
 */
export interface RunSecrets {
  add(name: string, bytes: Buffer): void;
  /** The master keys now in `dataDir` (master.key, master.key.next), each named by its generation. */
  harvestMasters(db: Db, dataDir: string): Promise<void>;
  /** Every key row still sealed, opened with the master key of its generation (harvestMasters first). */
  harvestVault(db: Db): Promise<number>;
  /** Every BDK still sealed (and a TDES BDK's sealed variant), opened like the keys. */
  harvestBdks(db: Db): Promise<number>;
  /** What agent `serial` holds in `<stateDir>/<serial>`. */
  harvestAgent(stateDir: string, serial: string): number;
  list(): Secret[];
}

export function createRunSecrets(): RunSecrets {
  const byHex = new Map<string, Secret>();
  const masters = new Map<number, Buffer>();
  const open = (ref: SealedRef, sealed: string) => {
    const gen = Buffer.from(sealed, 'base64').readUInt32BE(0);
    const master = masters.get(gen);
    if (!master) throw new Error(`${ref.keyId} is sealed under master-key generation ${gen}, which the test never read`);
    return openSealedKey(master, ref, sealed);
  };
  const add = (name: string, bytes: Buffer) => {
    const hex = bytes.toString('hex');
    if (!byHex.has(hex)) byHex.set(hex, { name, bytes: Buffer.from(bytes) });
  };

  return {
    add,
    async harvestMasters(db, dataDir) {
      const gens = await db.select().from(keyVaultMasters);
      for (const file of ['master.key', 'master.key.next']) {
        const path = join(dataDir, file);
        if (!existsSync(path)) continue;
        const key = Buffer.from(readFileSync(path, 'utf8').trim(), 'hex');
        const gen = gens.find((g) => g.kcv === keyCheckValue(key));
        if (!gen) throw new Error(`${file} matches no master-key generation of key_vault_masters`);
        masters.set(gen.gen, key);
        add(`master key gen ${gen.gen} (${file})`, key);
      }
    },
    async harvestVault(db) {
      const rows = await db.select().from(keys).where(isNotNull(keys.sealed));
      for (const r of rows) {
        if (!r.sealed) continue;
        const clear = open({ keyId: r.id, deviceId: r.deviceId, usage: r.usage, version: r.version }, r.sealed);
        if (!matchesKcv(clear, r.kcv)) throw new Error(`key ${r.id} opened to a key whose KCV is not the recorded ${r.kcv}`);
        add(`vault key ${r.id} (${r.usage} v${r.version} of ${r.deviceId})`, clear);
      }
      return rows.length;
    },
    async harvestBdks(db) {
      const rows = await db.select().from(bdks).where(isNotNull(bdks.sealed));
      for (const r of rows) {
        if (!r.sealed) continue;
        const clear = open({ keyId: r.id, deviceId: '-', usage: 'BDK', version: 1 }, r.sealed);
        if (!matchesKcv(clear, r.kcv)) throw new Error(`BDK ${r.id} opened to a key whose KCV is not the recorded ${r.kcv}`);
        add(`vault BDK ${r.id} (${r.scheme})`, clear);
        if (r.variantSealed)
          add(
            `vault BDK ${r.id} TDES variant`,
            open({ keyId: `${r.id}.variant`, deviceId: '-', usage: 'BDK', version: 1 }, r.variantSealed),
          );
      }
      return rows.length;
    },
    harvestAgent(stateDir, serial) {
      const dir = join(stateDir, serial);
      const store = openSecureStore(dir);
      let n = 0;
      for (const e of store.inventory()) {
        const key = store.keyOf(e.slot);
        if (!key) continue;
        add(`agent ${serial} ${e.slot} key ${e.keyId}`, key);
        n++;
      }
      for (const file of ['keystore.key', 'secure-element.key']) {
        if (!existsSync(join(dir, file))) continue;
        add(`agent ${serial} ${file}`, readFileSync(join(dir, file)));
        n++;
      }
      // The raw X25519 private key is the last 32 bytes of its PKCS#8 DER.
      add(
        `agent ${serial} KEK private key`,
        openStateStore(dir).loadOrCreateKek().privateKey.export({ format: 'der', type: 'pkcs8' }).subarray(-32),
      );
      return n + 1;
    },
    list: () => [...byHex.values()],
  };
}
