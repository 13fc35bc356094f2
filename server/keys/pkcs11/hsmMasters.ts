// Master-key generations of the PKCS#11 vault: AES-256 token objects labelled
// `posfleet-master-g<gen>`, sensitive and never extractable, each checked at start against the
// generation's KCV in the database (a token with another key would make every stored key
// unreadable, so the server refuses to start). The first start creates generation 1 in the token.
// A replacement creates the next generation's key in the token (fresh from C_GenerateKey, or an
// import ceremony's combined components by C_CreateObject); switching is one database
// transaction, after which the retired key object is destroyed.
import { eq, inArray } from 'drizzle-orm';
import { keyCheckValue, sameKcv } from '../../../schemas/keyCrypto/cmac.ts';
import { keyVaultMasters } from '../../../schemas/tables/keys.ts';
import type { Db } from '../../db/database.ts';
import type { Logger } from '../../log.ts';
import { VaultError } from '../keyCustody.ts';
import { MasterKeyBusy, type MasterGenerations } from '../vaultMasters.ts';
import { createKey, kcvIn, seal, toClear, unseal, type MasterHandles } from './keyObjects.ts';
import { P, type Handle, type Template, type Token } from './token.ts';

export const masterLabel = (gen: number) => `posfleet-master-g${gen}`;
const componentAad = (approvalId: string) => `posfleet-vault/component/v1;approval=${approvalId};n=1`;

function masterTemplate(gen: number): Template {
  return [
    { type: P.CKA_CLASS, value: P.CKO_SECRET_KEY },
    { type: P.CKA_KEY_TYPE, value: P.CKK_AES },
    { type: P.CKA_TOKEN, value: true },
    { type: P.CKA_PRIVATE, value: true },
    { type: P.CKA_LABEL, value: masterLabel(gen) },
    { type: P.CKA_SENSITIVE, value: true },
    { type: P.CKA_EXTRACTABLE, value: false },
    { type: P.CKA_MODIFIABLE, value: false },
    // Derives the binding key of each sealed token; signs only for its own KCV (CMAC of zeros).
    { type: P.CKA_DERIVE, value: true },
    { type: P.CKA_SIGN, value: true },
    { type: P.CKA_WRAP, value: false },
    { type: P.CKA_UNWRAP, value: false },
    { type: P.CKA_ENCRYPT, value: false },
    { type: P.CKA_DECRYPT, value: false },
  ];
}

export type HsmMasters = MasterGenerations & MasterHandles;

export async function openHsmMasters(opts: { db: Db; token: Token; log: Logger }): Promise<HsmMasters> {
  const { db, token, log } = opts;

  function createMaster(gen: number, imported?: Buffer): Handle {
    // A key object the database never recorded (a replacement cut short before its row) sealed nothing.
    token.discard(...token.findByLabel(masterLabel(gen)));
    if (imported) return createKey(token, 'AES256', Buffer.from(imported), masterTemplate(gen));
    return token.p11.C_GenerateKey(token.session, { mechanism: P.CKM_AES_KEY_GEN }, [...masterTemplate(gen), { type: P.CKA_VALUE_LEN, value: 32 }]);
  }

  function mustFind(gen: number, kcv: string, role: string): Handle {
    const found = token.findByLabel(masterLabel(gen));
    if (!found.length) throw new VaultError(`key vault: the PKCS#11 token has no ${role} master key ${masterLabel(gen)}; refusing to start`);
    const h = found.find((f) => sameKcv(kcvIn(token, 'AES256', f), kcv));
    if (!h) throw new VaultError(`key vault: the token's ${masterLabel(gen)} does not match generation ${gen}'s check value; refusing to start`);
    return h;
  }

  let rows = await db.select().from(keyVaultMasters);
  if (!rows.length) {
    const existing = token.findByLabel(masterLabel(1))[0];
    const h = existing ?? createMaster(1);
    const kcv = kcvIn(token, 'AES256', h);
    await db.insert(keyVaultMasters).values({ gen: 1, kcv, state: 'active', activatedAt: new Date() }).onConflictDoNothing();
    rows = await db.select().from(keyVaultMasters);
    // Another instance on the same token recorded its key first: ours sealed nothing.
    if (!existing && !rows.some((r) => r.gen === 1 && sameKcv(r.kcv, kcv))) token.discard(h);
  }
  let active = rows.find((r) => r.state === 'active')!;
  let next = rows.find((r) => r.state === 'next') ?? null;
  let activeH = mustFind(active.gen, active.kcv, 'active');
  let nextH = next ? mustFind(next.gen, next.kcv, 'next') : null;
  log.info({ gen: active.gen, replacing: Boolean(next), token: token.description }, 'key vault opened (PKCS#11)');

  const handles: MasterHandles = {
    current: () => (next && nextH ? { gen: next.gen, handle: nextH } : { gen: active.gen, handle: activeH }),
    get: (gen) => (gen === active.gen ? activeH : next && gen === next.gen && nextH ? nextH : undefined),
  };

  return {
    ...handles,
    from: 'hsm',
    currentGen: () => handles.current().gen,
    replacing: () => Boolean(next),
    generations: () => ({ active: { gen: active.gen, kcv: active.kcv }, next: next ? { gen: next.gen, kcv: next.kcv } : null }),
    holds: (key) => sameKcv(keyCheckValue(key), active.kcv) || (next !== null && sameKcv(keyCheckValue(key), next.kcv)),
    async beginReplacement(imported) {
      if (imported && imported.length !== 32) throw new VaultError('a master key is 32 bytes');
      if (next) {
        if (imported && !sameKcv(keyCheckValue(imported), next.kcv)) throw new MasterKeyBusy();
        return next.gen;
      }
      const gen = active.gen + 1;
      const h = createMaster(gen, imported);
      await db.insert(keyVaultMasters).values({ gen, kcv: kcvIn(token, 'AES256', h), state: 'next' }).onConflictDoNothing();
      next = (await db.select().from(keyVaultMasters).where(eq(keyVaultMasters.gen, gen)))[0] ?? null;
      nextH = h;
      return gen;
    },
    async finishReplacement() {
      if (!next || !nextH) return;
      const n = next;
      await db.transaction(async (tx) => {
        await tx.update(keyVaultMasters).set({ state: 'retired' }).where(inArray(keyVaultMasters.gen, [active.gen]));
        await tx.update(keyVaultMasters).set({ state: 'active', activatedAt: new Date() }).where(eq(keyVaultMasters.gen, n.gen));
      });
      const retired = activeH;
      active = { ...n, state: 'active' };
      activeH = nextH;
      next = null;
      nextH = null;
      token.discard(retired);
    },
    sealComponent(approvalId, component) {
      const h = createKey(token, 'AES256', Buffer.from(component));
      try {
        return seal(token, handles, componentAad(approvalId), 'AES256', h).sealed;
      } finally {
        token.discard(h);
      }
    },
    openComponent(approvalId, sealed) {
      let h: Handle | undefined;
      try {
        h = unseal(token, handles, componentAad(approvalId), sealed, `component of ${approvalId}`).handle;
        return toClear(token, 'AES256', h);
      } catch {
        return null;
      } finally {
        token.discard(h);
      }
    },
  };
}
