// Master-key generations of the software vault, checked against the database at start: the
// active generation's KCV must match the configured master key, or the server refuses to start
// (a wrong key would make every stored key unreadable). Also recovers a replacement that was
// cut short between its last re-encryption and the switch of files.
import { timingSafeEqual } from 'node:crypto';
import { eq, inArray } from 'drizzle-orm';
import { keyCheckValue } from '../../schemas/keyCrypto/cmac.ts';
import { keyVaultMasters } from '../../schemas/tables/keys.ts';
import type { Db } from '../db/database.ts';
import type { Logger } from '../log.ts';
import { openComponent, sealComponent } from './keyComponents.ts';
import { loadMasterKey } from './masterKey.ts';
import type { MasterKeys } from './custody/softwareCustody.ts';

/** The master-key generations of either backend: what replacement, import and the API need. */
export interface MasterGenerations {
  /** `env` keys cannot be replaced by the server; `hsm`: token objects of a PKCS#11 token. */
  from: 'env' | 'file' | 'hsm';
  replacing(): boolean;
  /** The generation new keys are sealed under (the next one while a replacement runs). */
  currentGen(): number;
  /** Generation and KCV of the active key and of the next one (replacement or import under way). */
  generations(): { active: { gen: number; kcv: string }; next: { gen: number; kcv: string } | null };
  /** Is `key` the active (or the next) master key? */
  holds(key: Buffer): boolean;
  /**
   * Starts (or resumes) a replacement: new keys are sealed under the next generation from now on.
   * The next key is fresh from the CSPRNG, or `imported` (master-key import); an imported key
   * that is not the one already waiting is refused (`MasterKeyBusy`).
   */
  beginReplacement(imported?: Buffer): Promise<number>;
  /** Every stored key is under the next generation: make it the master key. */
  finishReplacement(): Promise<void>;
  /** Component 1 of an import, sealed under the current master key for its request row. */
  sealComponent(approvalId: string, component: Buffer): string;
  /** Component 1 back, or null if it does not open (other request, master key gone, tampered). */
  openComponent(approvalId: string, sealed: string): Buffer | null;
}

/** The software vault's master keys: files (or the environment) the server reads. */
export interface VaultMasters extends MasterGenerations, MasterKeys {
  from: 'env' | 'file';
}

/** Another master-key replacement or import is under way. */
export class MasterKeyBusy extends Error {
  constructor() {
    super('another master-key replacement or import is under way');
    this.name = 'MasterKeyBusy';
  }
}

const sameBytes = (a: Buffer, b: Buffer) => a.length === b.length && timingSafeEqual(a, b);

export async function openVaultMasters(opts: { db: Db; dataDir: string; fromEnv?: string; log: Logger }): Promise<VaultMasters> {
  const { db, log } = opts;
  const source = loadMasterKey({ dataDir: opts.dataDir, fromEnv: opts.fromEnv });
  let rows = await db.select().from(keyVaultMasters);
  if (!rows.length) {
    await db.insert(keyVaultMasters).values({ gen: 1, kcv: keyCheckValue(source.key), state: 'active', activatedAt: new Date() }).onConflictDoNothing();
    rows = await db.select().from(keyVaultMasters);
  }
  let active = rows.find((r) => r.state === 'active')!;
  let next = rows.find((r) => r.state === 'next') ?? null;
  if (keyCheckValue(source.key) !== active.kcv) {
    // Cut short after the database switched generations but before the files did.
    const retired = rows.filter((r) => r.state === 'retired').sort((a, b) => b.gen - a.gen)[0];
    if (source.next && keyCheckValue(source.next) === active.kcv && retired && keyCheckValue(source.key) === retired.kcv) {
      source.promoteNext();
      log.warn({ gen: active.gen }, 'key vault: finished a master-key replacement that was cut short');
    } else {
      throw new Error(`key vault: the master key (${source.from === 'env' ? 'KEY_VAULT_MASTER_KEY' : 'DATA_DIR/master.key'}) does not match generation ${active.gen}'s check value; refusing to start`);
    }
  }
  if (next && (!source.next || keyCheckValue(source.next) !== next.kcv)) {
    throw new Error(`key vault: a master-key replacement is under way but master.key.next is missing or wrong`);
  }
  log.info({ gen: active.gen, from: source.from, replacing: Boolean(next) }, 'key vault opened (software vault: a simulation, not an HSM)');

  function get(gen: number): Buffer | undefined {
    if (gen === active.gen) return source.key;
    if (next && gen === next.gen && source.next) return source.next;
    return undefined;
  }
  function current(): { gen: number; key: Buffer } {
    return next && source.next ? { gen: next.gen, key: source.next } : { gen: active.gen, key: source.key };
  }

  return {
    from: source.from,
    sealComponent: (approvalId, component) => sealComponent(current(), approvalId, component),
    openComponent: (approvalId, sealed) => openComponent(get, approvalId, sealed),
    get,
    current,
    currentGen: () => current().gen,
    replacing: () => Boolean(next),
    generations: () => ({ active: { gen: active.gen, kcv: active.kcv }, next: next ? { gen: next.gen, kcv: next.kcv } : null }),
    holds: (key) => sameBytes(key, source.key) || (source.next !== null && sameBytes(key, source.next)),
    async beginReplacement(imported) {
      if (source.from === 'env') throw new Error('master key from KEY_VAULT_MASTER_KEY cannot be replaced by the server');
      if (next) {
        if (imported && !(source.next && sameBytes(imported, source.next))) throw new MasterKeyBusy();
        return next.gen;
      }
      const key = source.createNext(imported);
      const gen = active.gen + 1;
      await db.insert(keyVaultMasters).values({ gen, kcv: keyCheckValue(key), state: 'next' }).onConflictDoNothing();
      next = (await db.select().from(keyVaultMasters).where(eq(keyVaultMasters.gen, gen)))[0] ?? null;
      return gen;
    },
    async finishReplacement() {
      if (!next) return;
      const n = next;
      await db.transaction(async (tx) => {
        await tx.update(keyVaultMasters).set({ state: 'retired' }).where(inArray(keyVaultMasters.gen, [active.gen]));
        await tx.update(keyVaultMasters).set({ state: 'active', activatedAt: new Date() }).where(eq(keyVaultMasters.gen, n.gen));
      });
      source.promoteNext();
      active = { ...n, state: 'active' };
      next = null;
    },
  };
}
