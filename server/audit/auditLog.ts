// Append-only, hash-chained audit log (SPEC §8). docs/audit.md describes how to check it.
//
// Every entry commits to the one before it:
//
//   hash = hex(SHA-256(UTF-8(prevHash + canonicalJSON({
//            seq, ts, actorId, actorName, action, target, ip, data }))))
//
//   - prevHash: the previous entry's hash; for the first entry 64 zeros ("000…0").
//   - seq: the entry's number, 1, 2, 3… without gaps (given under the lock, not by a sequence).
//   - ts: the time as ISO-8601 UTC with milliseconds, as Date#toISOString gives it
//     ("2025-01-31T12:34:56.789Z"). Stored as timestamptz; ms round-trip exactly.
//   - actorId, actorName, target, ip: strings, or null when absent.
//   - data: a JSON object ({} when absent).
//   - canonicalJSON: RFC 8785 (JCS) for these values: object keys sorted by UTF-16 code units,
//     no white space, strings and numbers as ECMAScript JSON.stringify writes them, arrays in order.
//
// Appends are serialized across every server instance sharing one PostgreSQL by a transaction-
// scoped advisory lock; the lock is held until the transaction that appended commits, so the
// next append reads the committed last entry.
import { scopedTo, seesAll, type OrgScope } from '../orgs/scope.ts';
import { createHash } from 'node:crypto';
import { and, asc, desc, eq, getTableColumns, gt, gte, lt, sql, type SQL } from 'drizzle-orm';
import { canonicalJson } from '../../schemas/canonicalJson.ts';
import { auditLog, users, type AuditRow } from '../../schemas/db.ts';
import type { Tx } from '../core/transaction.ts';
import type { Db } from '../db/database.ts';
import { badRequest } from '../errors.ts';
import type { Principal } from '../http/types.ts';
import type { Logger } from '../log.ts';

/** Key of the transaction-scoped advisory lock that serializes audit appends (other modules: pick other keys). */
export const AUDIT_LOCK_KEY = '5064617564697401';

export const GENESIS_HASH = '0'.repeat(64);

export interface AuditEntryInput {
  /** Who did it; null for the system itself (bootstrap, schedulers). */
  actor: Principal | null;
  /** Dotted verb, e.g. `user.create`, `device.revoke`. */
  action: string;
  /** What it was done to: an id. */
  target?: string;
  /** Where the request came from. */
  ip?: string;
  /** Details; must be JSON (values JSON cannot hold are dropped as JSON.stringify drops them). */
  data?: Record<string, unknown>;
}

export interface AuditListQuery {
  limit: number;
  /** `nextCursor` of the previous page. */
  cursor?: string;
  action?: string;
  actorId?: string;
  target?: string;
  /** Entries at or after this time. */
  since?: Date;
  /** Entries before this time. */
  until?: Date;
  /**
   * Only the entries of actions by users of this caller's subtree (server/orgs/scope.ts); the
   * server's own entries (no actor) are the root's. Absent or a root caller: every entry.
   */
  scope?: OrgScope;
}

export interface AuditPage {
  items: AuditRow[];
  nextCursor: string | null;
}

export interface AuditVerifyResult {
  ok: boolean;
  /** Entries examined; on a failure, up to and including the first bad one. */
  checked: number;
  /** The first entry whose hash or link to its predecessor does not hold. */
  firstBadSeq?: number;
}

export interface AuditLog {
  /**
   * Appends one entry. With `tx`, the entry is part of that transaction (so a domain change and
   * its audit entry commit or roll back together); the transaction must be READ COMMITTED (the
   * default) and then holds the audit lock until it ends, so append last and commit soon.
   */
  append(entry: AuditEntryInput, tx?: Tx): Promise<AuditRow>;
  /** Newest first. */
  list(query: AuditListQuery): Promise<AuditPage>;
  /** Recomputes the whole chain, page by page. */
  verify(opts?: { pageSize?: number }): Promise<AuditVerifyResult>;
}

/** The fields an entry's hash covers, exactly as stored. */
export type HashedFields = Pick<AuditRow, 'seq' | 'ts' | 'actorId' | 'actorName' | 'action' | 'target' | 'ip' | 'data'>;

export function computeAuditHash(prevHash: string, e: HashedFields): string {
  const body = canonicalJson({
    seq: e.seq,
    ts: e.ts.toISOString(),
    actorId: e.actorId,
    actorName: e.actorName,
    action: e.action,
    target: e.target,
    ip: e.ip,
    data: e.data,
  });
  return createHash('sha256').update(prevHash + body, 'utf8').digest('hex');
}

/** What jsonb will give back: JSON-serializable values only, Dates as strings, no undefined. */
function toJsonObject(data: Record<string, unknown> | undefined): Record<string, unknown> {
  if (data === undefined) return {};
  const parsed: unknown = JSON.parse(JSON.stringify(data));
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new TypeError('audit data must be a JSON object');
  }
  return parsed as Record<string, unknown>;
}

export function encodeAuditCursor(seq: number): string {
  return String(seq);
}

export function decodeAuditCursor(cursor: string): number {
  if (!/^[1-9][0-9]{0,15}$/.test(cursor)) throw badRequest('bad_cursor', 'cursor is not valid');
  return Number(cursor);
}

export function createAuditLog({ db, log }: { db: Db; log: Logger }): AuditLog {
  async function appendIn(tx: Tx, entry: AuditEntryInput): Promise<AuditRow> {
    // The lock first, in its own statement: in READ COMMITTED the next statement's snapshot then
    // includes whatever the previous holder committed.
    const [lock] = await tx
      .select({
        isolation: sql<string>`current_setting('transaction_isolation')`,
        locked: sql<string>`pg_advisory_xact_lock(${sql.raw(AUDIT_LOCK_KEY)})::text`,
      })
      .from(sql`(select 1) as audit_lock`);
    if (lock?.isolation !== 'read committed') {
      // A snapshot older than the lock could miss the last entry and fork the chain.
      throw new Error(`audit append needs a READ COMMITTED transaction, not ${lock?.isolation ?? 'unknown'}`);
    }
    const [last] = await tx
      .select({ seq: auditLog.seq, hash: auditLog.hash })
      .from(auditLog)
      .orderBy(desc(auditLog.seq))
      .limit(1);
    const fields: HashedFields = {
      seq: (last?.seq ?? 0) + 1,
      // Milliseconds only, taken under the lock: ts never goes backwards along the chain
      // (unless the clock does) and round-trips exactly through timestamptz.
      ts: new Date(),
      actorId: entry.actor?.userId ?? null,
      actorName: entry.actor?.name ?? null,
      action: entry.action,
      target: entry.target ?? null,
      ip: entry.ip ?? null,
      data: toJsonObject(entry.data),
    };
    const prevHash = last?.hash ?? GENESIS_HASH;
    const hash = computeAuditHash(prevHash, fields);
    const [row] = await tx
      .insert(auditLog)
      .values({ ...fields, prevHash, hash })
      .returning();
    if (!row) throw new Error('audit insert returned nothing');
    return row;
  }

  return {
    async append(entry, tx) {
      if (!entry.action) throw new TypeError('audit entry needs an action');
      const row = tx ? await appendIn(tx, entry) : await db.transaction((t) => appendIn(t, entry));
      log.debug({ seq: row.seq, action: row.action, target: row.target, actorId: row.actorId }, 'audit');
      return row;
    },

    async list(q) {
      const where: SQL[] = [];
      if (q.cursor !== undefined) where.push(lt(auditLog.seq, decodeAuditCursor(q.cursor)));
      if (q.action !== undefined) where.push(eq(auditLog.action, q.action));
      if (q.actorId !== undefined) where.push(eq(auditLog.actorId, q.actorId));
      if (q.target !== undefined) where.push(eq(auditLog.target, q.target));
      if (q.since !== undefined) where.push(gte(auditLog.ts, q.since));
      if (q.until !== undefined) where.push(lt(auditLog.ts, q.until));
      if (q.scope && !seesAll(q.scope)) where.push(sql`${auditLog.actorId} in (select ${users.id} from ${users} where ${scopedTo(q.scope, users.orgId)})`);
      const rows = await db
        .select()
        .from(auditLog)
        .where(and(...where))
        .orderBy(desc(auditLog.seq))
        .limit(q.limit + 1);
      const items = rows.slice(0, q.limit);
      const lastItem = items[items.length - 1];
      return { items, nextCursor: rows.length > q.limit && lastItem ? encodeAuditCursor(lastItem.seq) : null };
    },

    async verify(opts = {}) {
      const pageSize = opts.pageSize ?? 1000;
      let prevHash = GENESIS_HASH;
      let prevSeq = 0;
      let checked = 0;
      for (;;) {
        const rows = await db
          .select({
            ...getTableColumns(auditLog),
            // A JS Date keeps milliseconds only: a sub-millisecond edit of ts must not go unseen.
            subMs: sql<number>`(extract(microseconds from ${auditLog.ts})::bigint % 1000)::int`,
          })
          .from(auditLog)
          .where(gt(auditLog.seq, prevSeq))
          .orderBy(asc(auditLog.seq))
          .limit(pageSize);
        for (const row of rows) {
          checked++;
          const linked = row.prevHash === prevHash && row.seq === prevSeq + 1;
          if (!linked || Number(row.subMs) !== 0 || computeAuditHash(row.prevHash, row) !== row.hash) {
            log.warn({ seq: row.seq, linked }, 'audit chain broken');
            return { ok: false, checked, firstBadSeq: row.seq };
          }
          prevHash = row.hash;
          prevSeq = row.seq;
        }
        if (rows.length < pageSize) return { ok: true, checked };
      }
    },
  };
}
