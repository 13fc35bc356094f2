// `Idempotency-Key` for POSTs that create work (SPEC §8), after the IETF draft
// "The Idempotency-Key HTTP Header Field":
// - the first response (status + JSON body) is kept per (user, method + path, key) for 24 h and
//   a repeat gets it back unchanged, with `Idempotent-Replayed: true`;
// - a repeat while the first is still running: 409 `idempotency_in_progress`;
// - the same key with a different body: 422 `idempotency_key_reused`;
// - 5xx and 429 answers are not kept (the key is released, a retry runs again), nor are answers
//   that are not JSON;
// - without the header, or without an authenticated caller, nothing happens.
// Responses are stored as they are: do not mount this on routes whose answers carry secrets
// (tokens, device credentials), or those secrets would sit in the database in clear.
import { createHash } from 'node:crypto';
import { and, eq, lt } from 'drizzle-orm';
import type { MiddlewareHandler } from 'hono';
import type { ContentfulStatusCode, StatusCode } from 'hono/utils/http-status';
import { z } from 'zod';
import { idempotencyKeys } from '../../schemas/db.ts';
import type { Db } from '../db/database.ts';
import { badRequest, conflict, unprocessable } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { AppEnv, Principal } from './types.ts';

export interface IdempotencyOptions {
  /** How long a kept answer is replayed (default 24 h); older keys start afresh. */
  ttlMs?: number;
  /** A reservation older than this is taken as abandoned by a crashed request (default 5 min). */
  staleAfterMs?: number;
  log?: Logger;
}

/** `status` of a reservation whose request is still running. */
const IN_PROGRESS = 0;
const KEY_SYNTAX = /^[\x21-\x7e]{1,255}$/;

/**
 * What the `body` column holds: the request fingerprint and the answer's text, byte for byte
 * (as a JSON string, since jsonb would reorder the keys of an object).
 */
const storedBody = z.object({
  requestHash: z.string(),
  contentType: z.string().nullable(),
  text: z.string().nullable(),
});
type StoredBody = z.infer<typeof storedBody>;

export function idempotency(db: Db, opts: IdempotencyOptions = {}): MiddlewareHandler<AppEnv> {
  const ttlMs = opts.ttlMs ?? 24 * 3600_000;
  const staleAfterMs = opts.staleAfterMs ?? 5 * 60_000;

  return async (c, next) => {
    if (c.req.method !== 'POST') return next();
    const key = c.req.header('idempotency-key');
    if (key === undefined) return next();
    if (!KEY_SYNTAX.test(key)) {
      throw badRequest('bad_idempotency_key', 'Idempotency-Key must be 1 to 255 visible ASCII characters');
    }
    const principal: Principal | undefined = c.get('principal');
    if (!principal) return next();

    const route = `POST ${c.req.path}`;
    const pk = and(
      eq(idempotencyKeys.userId, principal.userId),
      eq(idempotencyKeys.route, route),
      eq(idempotencyKeys.key, key),
    );
    // Read through Hono's body cache, so the route's validator can still read the body.
    const requestHash = createHash('sha256').update(Buffer.from(await c.req.arrayBuffer())).digest('hex');
    const reservation: StoredBody = { requestHash, contentType: null, text: null };

    // Reserve the key, or find what holds it.
    for (let attempt = 0; ; attempt++) {
      const now = Date.now();
      const inserted = await db
        .insert(idempotencyKeys)
        .values({ key, userId: principal.userId, route, status: IN_PROGRESS, body: reservation, createdAt: new Date(now) })
        .onConflictDoNothing()
        .returning({ key: idempotencyKeys.key });
      if (inserted.length > 0) break;

      const [row] = await db.select().from(idempotencyKeys).where(pk).limit(1);
      if (!row) {
        if (attempt < 3) continue; // released meanwhile: try again
        throw conflict('idempotency_in_progress', 'a request with this Idempotency-Key is in progress');
      }
      const inProgress = row.status === IN_PROGRESS;
      const expired = row.createdAt.getTime() < now - (inProgress ? staleAfterMs : ttlMs);
      if (expired) {
        // Take it over; of several racing requests exactly one wins.
        const taken = await db
          .update(idempotencyKeys)
          .set({ status: IN_PROGRESS, body: reservation, createdAt: new Date(now) })
          .where(and(pk, lt(idempotencyKeys.createdAt, new Date(now - (inProgress ? staleAfterMs : ttlMs)))))
          .returning({ key: idempotencyKeys.key });
        if (taken.length > 0) break;
        if (attempt < 3) continue;
      }
      if (inProgress) throw conflict('idempotency_in_progress', 'a request with this Idempotency-Key is in progress');
      const stored = storedBody.safeParse(row.body);
      if (!stored.success || stored.data.requestHash !== requestHash) {
        throw unprocessable('idempotency_key_reused', 'this Idempotency-Key was used with a different request');
      }
      c.header('Idempotent-Replayed', 'true');
      const { contentType, text } = stored.data;
      if (contentType) c.header('Content-Type', contentType);
      // Stored answers with a body have a status that allows one (they were sent with it).
      return text === null ? c.body(null, row.status as StatusCode) : c.body(text, row.status as ContentfulStatusCode);
    }

    const release = () => db.delete(idempotencyKeys).where(and(pk, eq(idempotencyKeys.status, IN_PROGRESS)));
    try {
      await next();
    } catch (err) {
      await release().catch(() => undefined);
      throw err;
    }

    const res = c.res;
    const kept = await keepable(res);
    try {
      if (!kept) await release();
      else {
        await db
          .update(idempotencyKeys)
          .set({ status: res.status, body: { requestHash, ...kept } satisfies StoredBody })
          .where(and(pk, eq(idempotencyKeys.status, IN_PROGRESS)));
      }
    } catch (err) {
      // The work is done: answer it. The reservation stays and expires after staleAfterMs.
      opts.log?.error({ err, route }, 'could not record idempotent response');
    }
  };
}

/** The answer to keep, or null when it must not be kept (the key is then released). */
async function keepable(res: Response): Promise<Omit<StoredBody, 'requestHash'> | null> {
  if (res.status >= 500 || res.status === 429 || res.status < 200) return null;
  if (res.body === null) return { contentType: null, text: null };
  const contentType = res.headers.get('content-type');
  if (!contentType || !/^application\/([a-z0-9.+-]*\+)?json\b/i.test(contentType)) return null;
  try {
    return { contentType, text: await res.clone().text() };
  } catch {
    return null;
  }
}

/** Deletes keys older than `olderThan` (run it now and then; default retention is 24 h). */
export async function purgeIdempotencyKeys(db: Db, olderThan: Date): Promise<number> {
  const gone = await db
    .delete(idempotencyKeys)
    .where(lt(idempotencyKeys.createdAt, olderThan))
    .returning({ key: idempotencyKeys.key });
  return gone.length;
}
