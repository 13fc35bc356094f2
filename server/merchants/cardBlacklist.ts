// Card blacklist (SPEC §6): blocked card tokens, stored and pushed only as salted hashes. A PAN
// given to the API is hashed at once and never stored or logged.
import { createHash, randomBytes } from 'node:crypto';
import { asc, eq, sql } from 'drizzle-orm';
import { CARD_HASH_PATTERN, CONFIG_KEY_CARD_BLACKLIST, type CardBlacklistConfig } from '../../schemas/binding.ts';
import { devices } from '../../schemas/db.ts';
import { cardBlacklist, cardBlacklistMeta, merchantBindings } from '../../schemas/tables/merchants.ts';
import type { Tx } from '../core/transaction.ts';
import { badRequest, conflict, notFound } from '../errors.ts';
import { keyMatching } from '../http/cursorParts.ts';
import { pageOf } from '../http/pageOf.ts';
import type { Actor } from '../core/actor.ts';
import { STATE_COMMAND_TTL_S } from '../terminalControl/terminalState.ts';
import type { MerchantDeps } from './merchantDeps.ts';

export const MAX_BLOCKED_CARDS = 20_000;

export function cardHashOf(saltB64: string, pan: string): string {
  return createHash('sha256')
    .update(Buffer.concat([Buffer.from(saltB64, 'base64'), Buffer.from(pan, 'utf8')]))
    .digest('hex');
}

export function createCardBlacklist(d: MerchantDeps) {
  const { db } = d;

  async function meta(): Promise<{ salt: string; version: number }> {
    await db
      .insert(cardBlacklistMeta)
      .values({ id: 1, salt: randomBytes(16).toString('base64'), version: 0 })
      .onConflictDoNothing();
    const [row] = await db.select().from(cardBlacklistMeta).where(eq(cardBlacklistMeta.id, 1)).limit(1);
    return row!;
  }

  const bump = (tx: Tx) =>
    tx
      .update(cardBlacklistMeta)
      .set({ version: sql`${cardBlacklistMeta.version} + 1` })
      .where(eq(cardBlacklistMeta.id, 1));

  async function config(): Promise<CardBlacklistConfig> {
    const m = await meta();
    const rows = await db
      .select({ h: cardBlacklist.cardHash })
      .from(cardBlacklist)
      .orderBy(asc(cardBlacklist.cardHash))
      .limit(MAX_BLOCKED_CARDS);
    return { version: m.version, salt: m.salt, hashes: rows.map((r) => r.h) };
  }

  /** Sends the list to every bound terminal that may connect. */
  async function push(createdBy: string | null) {
    const targets = await db
      .select({ id: merchantBindings.deviceId })
      .from(merchantBindings)
      .innerJoin(devices, eq(devices.id, merchantBindings.deviceId))
      .where(sql`${merchantBindings.closedAt} is null and ${devices.status} = 'enrolled'`);
    if (!targets.length) return null;
    const list = await config();
    return d.commands.createBatch(
      targets.map((t) => t.id),
      { type: 'config.set', payload: { [CONFIG_KEY_CARD_BLACKLIST]: list }, ttlS: STATE_COMMAND_TTL_S, createdBy },
    );
  }

  async function resolveHash(input: { pan?: string; cardHash?: string }): Promise<string> {
    if (input.cardHash) {
      if (!CARD_HASH_PATTERN.test(input.cardHash)) throw badRequest('validation_failed', 'cardHash must be 64 lower-case hex digits');
      return input.cardHash;
    }
    if (!input.pan) throw badRequest('validation_failed', 'give pan or cardHash', [{ path: 'pan', message: 'required without cardHash' }]);
    return cardHashOf((await meta()).salt, input.pan);
  }

  return {
    meta,
    config,
    push,
    async list(limit: number, cursor?: string) {
      const rows = await db
        .select()
        .from(cardBlacklist)
        .where(cursor ? sql`${cardBlacklist.cardHash} > ${keyMatching(cursor, CARD_HASH_PATTERN)}` : undefined)
        .orderBy(asc(cardBlacklist.cardHash))
        .limit(limit + 1);
      return pageOf(rows, limit, (last) => last.cardHash);
    },

    async add(input: { pan?: string; cardHash?: string; reason: string; source?: 'manual' | 'auto'; deviceId?: string }, actor: Actor) {
      const cardHash = await resolveHash(input);
      const [{ n }] = (await db.select({ n: sql<number>`count(*)::int` }).from(cardBlacklist)) as [{ n: number }];
      if (n >= MAX_BLOCKED_CARDS) throw conflict('card_blacklist_full', `the card blacklist holds at most ${MAX_BLOCKED_CARDS} entries`);
      const added = await db.transaction(async (tx) => {
        const [row] = await tx
          .insert(cardBlacklist)
          .values({
            cardHash,
            reason: input.reason,
            source: input.source ?? 'manual',
            deviceId: input.deviceId ?? null,
            createdBy: actor.principal?.userId ?? null,
          })
          .onConflictDoNothing()
          .returning();
        if (!row) return null;
        await bump(tx);
        await d.audit.append(
          {
            actor: actor.principal,
            ip: actor.ip,
            action: 'card_blacklist.add',
            target: cardHash,
            data: { reason: input.reason, source: row.source, deviceId: input.deviceId },
          },
          tx,
        );
        return row;
      });
      if (added) await push(actor.principal?.userId ?? null);
      return { cardHash, added: Boolean(added) };
    },

    async remove(cardHash: string, reason: string, actor: Actor) {
      const removed = await db.transaction(async (tx) => {
        const rows = await tx.delete(cardBlacklist).where(eq(cardBlacklist.cardHash, cardHash)).returning();
        if (!rows.length) return false;
        await bump(tx);
        await d.audit.append(
          { actor: actor.principal, ip: actor.ip, action: 'card_blacklist.remove', target: cardHash, data: { reason } },
          tx,
        );
        return true;
      });
      if (!removed) throw notFound(`blocked card ${cardHash}`);
      await push(actor.principal?.userId ?? null);
    },
  };
}

export type CardBlacklistService = ReturnType<typeof createCardBlacklist>;
