// Dual control (SPEC §5): master-key replacement and import, and bulk revocation, need a request by
// one admin and the approval of another. The request and each decision are audited with the user's
// name. An action may carry secret input (master-key import: a key component from each admin): the
// requester's is kept only sealed in the row (`sealed`), wiped when the request is decided or
// expires; the approver's goes to the action's `approve` hook and is never stored.
import { and, desc, eq, isNotNull, lt } from 'drizzle-orm';
import { keyApprovals, type DualControlAction, type KeyApprovalRow } from '../../schemas/tables/keys.ts';
import type { AuditEntryInput, AuditLog } from '../audit/auditLog.ts';
import type { Db } from '../db/database.ts';
import { AppError, badRequest, conflict, forbidden } from '../errors.ts';
import type { Principal } from '../http/types.ts';
import type { Logger } from '../log.ts';
import { firstOrNotFound } from '../core/firstOrNotFound.ts';
import { newApprovalId } from './keyIds.ts';

export type Executor = (row: KeyApprovalRow, progress: (p: Record<string, unknown>) => Promise<void>) => Promise<Record<string, unknown>>;

/** Thrown by an executor that cannot ever finish: the request becomes `failed` instead of resuming. */
export class ActionFailed extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ActionFailed';
  }
}

/** What the approver sends with an approval (only actions with an `approve` hook take any). */
export interface ApprovalInput {
  component?: string;
}

/** An approval checked by its action's hook, not yet in effect. */
export interface PreparedApproval {
  /** Merged into the request's params (public values only: KCVs). */
  params: Record<string, unknown>;
  /** Runs once the request is recorded as approved, before the executor; a throw marks it failed. */
  commit(): Promise<void>;
  /** Wipes whatever secret the hook holds; always called. */
  dispose(): void;
}

export interface ActionHooks {
  /** Checks the approver's input against the request (its sealed secret included); throws an AppError to refuse (the request stays pending). */
  approve?(row: KeyApprovalRow, input: ApprovalInput | undefined): Promise<PreparedApproval>;
}

/** Secret part of a new request: sealed for the row id, kept until the decision or `ttlMs`. */
export interface RequestSecret {
  seal(approvalId: string): string;
  ttlMs: number;
}

/** Pure: may `approver` decide on a request made by `requesterId`? */
export function decisionRefusal(row: Pick<KeyApprovalRow, 'state' | 'requestedBy'>, approver: Pick<Principal, 'userId' | 'role'>): { status: 403; code: 'forbidden' | 'dual_control'; message: string } | { status: 409; code: 'expired' | 'already_decided'; message: string } | null {
  if (approver.role !== 'admin') return { status: 403, code: 'forbidden', message: 'only an admin decides dual-control requests' };
  if (approver.userId === row.requestedBy) return { status: 403, code: 'dual_control', message: 'the approval must come from an admin other than the requester' };
  if (row.state === 'expired') return { status: 409, code: 'expired', message: 'the request expired without a decision; request again' };
  if (row.state !== 'pending') return { status: 409, code: 'already_decided', message: `the request is ${row.state}` };
  return null;
}

export const approvalView = (r: KeyApprovalRow) => ({
  id: r.id,
  action: r.action,
  params: r.params,
  reason: r.reason,
  state: r.state,
  requestedBy: r.requestedBy,
  decidedBy: r.decidedBy,
  decidedAt: r.decidedAt,
  progress: r.progress,
  expiresAt: r.expiresAt,
  createdAt: r.createdAt,
});

export function createDualControl(deps: { db: Db; audit: AuditLog; log: Logger; executors: Record<DualControlAction, Executor>; hooks?: Partial<Record<DualControlAction, ActionHooks>> }) {
  const { db } = deps;

  /** Pending requests past their expiry become `expired`, their secret wiped. */
  async function expire(now = new Date()) {
    const gone = await db.transaction(async (tx) => {
      const rows = await tx
        .update(keyApprovals)
        .set({ state: 'expired', sealed: null })
        .where(and(eq(keyApprovals.state, 'pending'), isNotNull(keyApprovals.expiresAt), lt(keyApprovals.expiresAt, now)))
        .returning({ id: keyApprovals.id, action: keyApprovals.action });
      for (const r of rows) await deps.audit.append({ actor: null, action: `${r.action}.expire`, target: r.id }, tx);
      return rows;
    });
    return gone.length;
  }

  /** A request's final state with its audit entry, in one transaction. */
  async function settle(id: string, set: Partial<typeof keyApprovals.$inferInsert>, entry: AuditEntryInput) {
    return db.transaction(async (tx) => {
      const [row] = await tx.update(keyApprovals).set(set).where(eq(keyApprovals.id, id)).returning();
      await deps.audit.append(entry, tx);
      return row;
    });
  }
  const running = new Map<string, Promise<void>>();

  const get = (id: string) => firstOrNotFound(db.select().from(keyApprovals).where(eq(keyApprovals.id, id)).limit(1), `request ${id}`);

  function run(row: KeyApprovalRow): Promise<void> {
    const existing = running.get(row.id);
    if (existing) return existing;
    const progress = async (p: Record<string, unknown>) => void (await db.update(keyApprovals).set({ progress: p }).where(eq(keyApprovals.id, row.id)));
    const job = (async () => {
      try {
        const result = await deps.executors[row.action](row, progress);
        await settle(row.id, { state: 'done', progress: result }, { actor: null, action: `${row.action}.done`, target: row.id, data: result });
      } catch (err) {
        if (err instanceof ActionFailed) {
          deps.log.error({ request: row.id, action: row.action, code: err.code }, `dual-control action failed: ${err.message}`);
          const failed = { state: 'failed' as const, sealed: null, progress: { ...row.progress, error: { code: err.code, message: err.message } } };
          await settle(row.id, failed, { actor: null, action: `${row.action}.failed`, target: row.id, data: { code: err.code } }).catch(() => undefined);
          return;
        }
        // Left `running`: a restart (or the next approval check) resumes it.
        deps.log.error({ err, request: row.id, action: row.action }, 'dual-control action failed; it will resume');
        await db.update(keyApprovals).set({ progress: { ...row.progress, error: (err as Error).message } }).where(eq(keyApprovals.id, row.id)).catch(() => undefined);
      } finally {
        running.delete(row.id);
      }
    })();
    running.set(row.id, job);
    return job;
  }

  return {
    async request(by: Principal, action: DualControlAction, params: Record<string, unknown>, reason: string, ip?: string, secret?: RequestSecret) {
      if (by.role !== 'admin') throw forbidden('only an admin requests dual-control actions');
      const id = newApprovalId();
      const row = {
        id,
        action,
        params,
        reason,
        state: 'pending',
        requestedBy: by.userId,
        progress: {},
        ...(secret ? { sealed: secret.seal(id), expiresAt: new Date(Date.now() + secret.ttlMs) } : {}),
      };
      await db.transaction(async (tx) => {
        await tx.insert(keyApprovals).values(row);
        await deps.audit.append({ actor: by, action: `${action}.request`, target: row.id, ip, data: { params, reason } }, tx);
      });
      return approvalView(await get(row.id));
    },
    async decide(id: string, by: Principal, approve: boolean, ip?: string, input?: ApprovalInput) {
      await expire();
      const row = await get(id);
      const refusal = decisionRefusal(row, by);
      if (refusal) {
        await deps.audit.append({ actor: by, action: `${row.action}.refused`, target: id, ip, data: { code: refusal.code } });
        throw refusal.status === 403 ? forbidden(refusal.message, refusal.code) : conflict(refusal.code, refusal.message);
      }
      const hook = deps.hooks?.[row.action]?.approve;
      if (input?.component !== undefined && !(approve && hook)) throw badRequest('component_not_expected', `a ${approve ? row.action : 'rejection'} takes no key component`);
      let prepared: PreparedApproval | undefined;
      if (approve && hook) {
        try {
          prepared = await hook(row, input);
        } catch (err) {
          if (err instanceof AppError) await deps.audit.append({ actor: by, action: `${row.action}.refused`, target: id, ip, data: { code: err.code } });
          throw err;
        }
      }
      try {
        const state = approve ? 'running' : 'rejected';
        // The decision and its entry commit together; the prepared effect and the run follow the commit.
        const updated = await db.transaction(async (tx) => {
          const [u] = await tx
            .update(keyApprovals)
            .set({ state, decidedBy: by.userId, decidedAt: new Date(), sealed: null, ...(prepared ? { params: { ...row.params, ...prepared.params } } : {}) })
            .where(and(eq(keyApprovals.id, id), eq(keyApprovals.state, 'pending')))
            .returning();
          if (!u) throw conflict('already_decided', 'the request was decided meanwhile');
          await deps.audit.append({ actor: by, action: `${row.action}.${approve ? 'approve' : 'reject'}`, target: id, ip, data: { requestedBy: row.requestedBy, ...prepared?.params } }, tx);
          return u;
        });
        if (prepared) {
          try {
            await prepared.commit();
          } catch (err) {
            const code = err instanceof AppError ? err.code : 'commit_failed';
            const message = err instanceof Error ? err.message : String(err);
            const failed = await settle(id, { state: 'failed', progress: { error: { code, message } } }, { actor: null, action: `${row.action}.failed`, target: id, data: { code } });
            if (err instanceof AppError) throw err;
            deps.log.error({ err, request: id, action: row.action }, 'dual-control approval could not take effect');
            return approvalView(failed ?? updated);
          }
        }
        if (approve) void run(updated);
        return approvalView(updated);
      } finally {
        prepared?.dispose();
      }
    },
    async get(id: string) {
      await expire();
      return approvalView(await get(id));
    },
    async list(limit: number) {
      await expire();
      return (await db.select().from(keyApprovals).orderBy(desc(keyApprovals.createdAt)).limit(limit)).map(approvalView);
    },
    /** Expires pending requests past their time (a timer calls it too). */
    expire,
    /** After a restart: carry on with whatever was approved and not finished. */
    async resume() {
      await expire();
      const rows = await db.select().from(keyApprovals).where(eq(keyApprovals.state, 'running'));
      for (const r of rows) void run(r);
    },
    /** Waits for running actions (tests, shutdown). */
    async idle() {
      await Promise.all(running.values());
    },
  };
}

export type DualControl = ReturnType<typeof createDualControl>;
