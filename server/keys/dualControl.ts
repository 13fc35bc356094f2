// Dual control (SPEC §5): master-key replacement and bulk revocation need a request by one admin
// and the approval of another. The request and each decision are audited with the user's name.
import { and, desc, eq } from 'drizzle-orm';
import { keyApprovals, type DualControlAction, type KeyApprovalRow } from '../../schemas/tables/keys.ts';
import type { AuditLog } from '../audit/auditLog.ts';
import type { Db } from '../db/database.ts';
import { conflict, forbidden, notFound } from '../errors.ts';
import type { Principal } from '../http/types.ts';
import type { Logger } from '../log.ts';
import { newApprovalId } from './keyIds.ts';

export type Executor = (row: KeyApprovalRow, progress: (p: Record<string, unknown>) => Promise<void>) => Promise<Record<string, unknown>>;

/** Pure: may `approver` decide on a request made by `requesterId`? */
export function decisionRefusal(row: Pick<KeyApprovalRow, 'state' | 'requestedBy'>, approver: Pick<Principal, 'userId' | 'role'>): { status: 403 | 409; code: string; message: string } | null {
  if (approver.role !== 'admin') return { status: 403, code: 'forbidden', message: 'only an admin decides dual-control requests' };
  if (approver.userId === row.requestedBy) return { status: 403, code: 'dual_control', message: 'the approval must come from an admin other than the requester' };
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
  createdAt: r.createdAt,
});

export function createDualControl(deps: { db: Db; audit: AuditLog; log: Logger; executors: Record<DualControlAction, Executor> }) {
  const { db } = deps;
  const running = new Map<string, Promise<void>>();

  async function get(id: string) {
    const [row] = await db.select().from(keyApprovals).where(eq(keyApprovals.id, id)).limit(1);
    if (!row) throw notFound(`request ${id}`);
    return row;
  }

  function run(row: KeyApprovalRow): Promise<void> {
    const existing = running.get(row.id);
    if (existing) return existing;
    const progress = async (p: Record<string, unknown>) => void (await db.update(keyApprovals).set({ progress: p }).where(eq(keyApprovals.id, row.id)));
    const job = (async () => {
      try {
        const result = await deps.executors[row.action](row, progress);
        await db.update(keyApprovals).set({ state: 'done', progress: result }).where(eq(keyApprovals.id, row.id));
        await deps.audit.append({ actor: null, action: `${row.action}.done`, target: row.id, data: result });
      } catch (err) {
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
    async request(by: Principal, action: DualControlAction, params: Record<string, unknown>, reason: string, ip?: string) {
      if (by.role !== 'admin') throw forbidden('only an admin requests dual-control actions');
      const row = { id: newApprovalId(), action, params, reason, state: 'pending', requestedBy: by.userId, progress: {} };
      await db.insert(keyApprovals).values(row);
      await deps.audit.append({ actor: by, action: `${action}.request`, target: row.id, ip, data: { params, reason } });
      return approvalView(await get(row.id));
    },
    async decide(id: string, by: Principal, approve: boolean, ip?: string) {
      const row = await get(id);
      const refusal = decisionRefusal(row, by);
      if (refusal) {
        await deps.audit.append({ actor: by, action: `${row.action}.refused`, target: id, ip, data: { code: refusal.code } });
        throw refusal.status === 403 ? forbidden(refusal.message, refusal.code) : conflict(refusal.code, refusal.message);
      }
      const state = approve ? 'running' : 'rejected';
      const [updated] = await db
        .update(keyApprovals)
        .set({ state, decidedBy: by.userId, decidedAt: new Date() })
        .where(and(eq(keyApprovals.id, id), eq(keyApprovals.state, 'pending')))
        .returning();
      if (!updated) throw conflict('already_decided', 'the request was decided meanwhile');
      await deps.audit.append({ actor: by, action: `${row.action}.${approve ? 'approve' : 'reject'}`, target: id, ip, data: { requestedBy: row.requestedBy } });
      if (approve) void run(updated);
      return approvalView(updated);
    },
    get: async (id: string) => approvalView(await get(id)),
    async list(limit: number) {
      return (await db.select().from(keyApprovals).orderBy(desc(keyApprovals.createdAt)).limit(limit)).map(approvalView);
    },
    /** After a restart: carry on with whatever was approved and not finished. */
    async resume() {
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
