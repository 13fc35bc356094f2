// Re-binding requests (SPEC §6, maker-checker): an admin files a request to move a bound terminal
// to another merchant; another admin approves or rejects it before it expires. Approving moves
// the binding (bindingService.rebindIn / afterRebind) in the same transaction as the decision.
import { scopedDevice, type OrgScope } from '../orgs/scope.ts';
import { assertOwnedWithin } from '../orgs/orgLookup.ts';
import { and, desc, eq, lt } from 'drizzle-orm';
import { rebindRequests, type RebindRequestRow, type RebindStatus } from '../../schemas/tables/merchants.ts';
import { firstOrNotFound } from '../core/firstOrNotFound.ts';
import type { Actor } from '../core/actor.ts';
import { newId } from '../core/ids.ts';
import { isUniqueViolation } from '../core/sqlState.ts';
import type { Tx } from '../core/transaction.ts';
import { conflict, forbidden } from '../errors.ts';
import { fromBase64url, isoInstant, toBase64url } from '../http/cursorParts.ts';
import { pageOf } from '../http/pageOf.ts';
import { deviceOrThrow } from '../terminalControl/terminalState.ts';
import { bindingView, merchantOrThrow, requireActive, type BindingService } from './bindingService.ts';
import type { MerchantDeps } from './merchantDeps.ts';

export const DEFAULT_REBIND_TTL_S = 72 * 3600;

/** What deciding a request does beyond moving its status: `apply` runs inside the decision's transaction. */
interface Decision<T> {
  status: Extract<RebindStatus, 'approved' | 'rejected'>;
  apply(tx: Tx, req: RebindRequestRow): Promise<{ value: T; audit: Record<string, unknown> }>;
}

export function createRebindRequests(d: MerchantDeps & { bindings: BindingService; rebindTtlS?: number }) {
  const { db } = d;
  const now = () => new Date(d.now?.() ?? Date.now());

  const getRequest = (id: string): Promise<RebindRequestRow> =>
    firstOrNotFound(db.select().from(rebindRequests).where(eq(rebindRequests.id, id)).limit(1), `rebind request ${id}`);

  /** Maker-checker: a pending, unexpired request, decided by an admin other than its requester. */
  async function decidable(id: string, actor: Actor): Promise<RebindRequestRow> {
    const req = await getRequest(id);
    if (actor.principal?.userId === req.requestedBy)
      throw forbidden('the requester cannot decide their own rebind request; another admin must', 'same_user');
    if (req.status !== 'pending') throw conflict('request_decided', `rebind request ${id} is already ${req.status}`);
    if (req.expiresAt.getTime() <= now().getTime()) throw conflict('request_expired', `rebind request ${id} has expired`);
    return req;
  }

  /** Moves a decidable request to its outcome once (two racing deciders get one winner), audited with what `apply` did. */
  async function decide<T>(req: RebindRequestRow, actor: Actor, note: string | undefined, decision: Decision<T>) {
    const { id } = req;
    return db.transaction(async (tx) => {
      const [taken] = await tx
        .update(rebindRequests)
        .set({
          status: decision.status,
          decidedBy: actor.principal!.userId,
          decidedByName: actor.principal!.name,
          decidedAt: now(),
          decisionNote: note ?? null,
        })
        .where(and(eq(rebindRequests.id, id), eq(rebindRequests.status, 'pending')))
        .returning();
      if (!taken) throw conflict('request_decided', `rebind request ${id} was decided meanwhile`);
      const { value, audit } = await decision.apply(tx, taken);
      const action = decision.status === 'approved' ? 'rebind.approve' : 'rebind.reject';
      await d.audit.append({ actor: actor.principal, ip: actor.ip, action, target: taken.deviceId, data: { requestId: id, ...audit, note } }, tx);
      return { taken, value };
    });
  }

  return {
    getRequest,

    async request(deviceId: string, input: { merchantId: string; tid: string; reason: string }, actor: Actor) {
      await deviceOrThrow(db, deviceId);
      const m = await merchantOrThrow(db, input.merchantId);
      await assertOwnedWithin(db, actor.principal, m.orgId, `merchant ${m.id}`);
      requireActive(m);
      const b = await d.bindings.openBinding(deviceId);
      if (!b) throw conflict('not_bound', `device ${deviceId} is not bound; bind it with PUT /v1/devices/${deviceId}/binding`);
      if (b.merchantId === m.id && b.tid === input.tid) throw conflict('same_binding', 'the terminal is already bound to that merchant with that TID');
      const ttl = d.rebindTtlS ?? DEFAULT_REBIND_TTL_S;
      try {
        return await db.transaction(async (tx) => {
          const [r] = await tx
            .insert(rebindRequests)
            .values({
              id: newId('rbr'),
              deviceId,
              fromBindingId: b.id,
              fromMerchantId: b.merchantId,
              merchantId: m.id,
              tid: input.tid,
              reason: input.reason,
              requestedBy: actor.principal!.userId,
              requestedByName: actor.principal!.name,
              expiresAt: new Date(now().getTime() + ttl * 1000),
            })
            .returning();
          await d.audit.append(
            {
              actor: actor.principal,
              ip: actor.ip,
              action: 'rebind.request',
              target: deviceId,
              data: { requestId: r!.id, from: b.merchantId, to: m.id, tid: input.tid, reason: input.reason },
            },
            tx,
          );
          d.timeline.add({ deviceId, kind: 'binding', summary: `rebind to ${m.name} requested: ${input.reason}`, data: { requestId: r!.id } });
          return r!;
        });
      } catch (err) {
        if (isUniqueViolation(err)) throw conflict('rebind_pending', `device ${deviceId} already has a pending rebind request`, undefined, { cause: err });
        throw err;
      }
    },

    /** `scope`: only the requests of terminals in this caller's subtree. */
    async listRequests(q: { status?: RebindStatus; deviceId?: string; limit: number; cursor?: string; scope?: OrgScope }) {
      const rows = await db
        .select()
        .from(rebindRequests)
        .where(
          and(
            q.status ? eq(rebindRequests.status, q.status) : undefined,
            q.deviceId ? eq(rebindRequests.deviceId, q.deviceId) : undefined,
            q.scope ? scopedDevice(q.scope, rebindRequests.deviceId) : undefined,
            q.cursor ? lt(rebindRequests.createdAt, isoInstant(fromBase64url(q.cursor))) : undefined,
          ),
        )
        .orderBy(desc(rebindRequests.createdAt), desc(rebindRequests.id))
        .limit(q.limit + 1);
      return pageOf(rows, q.limit, (last) => toBase64url(last.createdAt.toISOString()));
    },

    async approve(id: string, actor: Actor, note?: string) {
      const req = await decidable(id, actor);
      const m = await merchantOrThrow(db, req.merchantId);
      requireActive(m);
      const { taken, value: rebound } = await decide(req, actor, note, {
        status: 'approved',
        async apply(tx, taken) {
          const r = await d.bindings.rebindIn(tx, taken, m, actor);
          const { old, binding } = r;
          return {
            value: r,
            audit: { requestedBy: taken.requestedBy, closedBindingId: old.id, from: old.merchantId, bindingId: binding.id, to: m.id, tid: binding.tid, epoch: binding.epoch },
          };
        },
      });
      const commands = await d.bindings.afterRebind(taken, m, rebound, actor);
      return { request: await getRequest(id), binding: bindingView(rebound.binding), commands };
    },

    async reject(id: string, actor: Actor, note?: string) {
      const { taken } = await decide(await decidable(id, actor), actor, note, { status: 'rejected', apply: async () => ({ value: null, audit: {} }) });
      d.timeline.add({ deviceId: taken.deviceId, kind: 'binding', summary: `rebind request rejected by ${actor.principal?.name}`, data: { requestId: id } });
      return taken;
    },

    /** Undecided requests past their time become `expired` (BullMQ job scheduler). */
    async expireDue(): Promise<number> {
      const due = await db
        .select({ id: rebindRequests.id })
        .from(rebindRequests)
        .where(and(eq(rebindRequests.status, 'pending'), lt(rebindRequests.expiresAt, now())))
        .limit(1000);
      let n = 0;
      for (const { id } of due) {
        await db.transaction(async (tx) => {
          const [r] = await tx
            .update(rebindRequests)
            .set({ status: 'expired', decidedAt: now() })
            .where(and(eq(rebindRequests.id, id), eq(rebindRequests.status, 'pending')))
            .returning();
          if (!r) return;
          n++;
          await d.audit.append({ actor: null, action: 'rebind.expire', target: r.deviceId, data: { requestId: id } }, tx);
          d.timeline.add({ deviceId: r.deviceId, kind: 'binding', summary: 'rebind request expired undecided', data: { requestId: id } });
        });
      }
      return n;
    },
  };
}

export type RebindRequests = ReturnType<typeof createRebindRequests>;
