// Faults: opened and auto-resolved in memory on the ingest path (the rule engine's sink), written
// behind in batches; acknowledged, assigned, annotated and resolved through the API, each with an
// audit entry. Every change goes to the device timeline and the live stream.
import { and, eq, inArray, ne, sql } from 'drizzle-orm';
import type { FaultLiveEvent, FaultState } from '../../schemas/faults.ts';
import { severityRank } from '../../schemas/faults.ts';
import { faultNotes, faults, type FaultRow } from '../../schemas/tables/faults.ts';
import type { AuditLog } from '../audit/auditLog.ts';
import type { Db } from '../db/database.ts';
import { newId } from '../core/ids.ts';
import { firstOrNotFound } from '../core/firstOrNotFound.ts';
import { sqlState } from '../core/sqlState.ts';
import type { Tx } from '../core/transaction.ts';
import type { TimelineWriter } from '../devices/timelineWriter.ts';
import { conflict, notFound } from '../errors.ts';
import type { EventBus } from '../events/eventBus.ts';
import type { Principal } from '../http/types.ts';
import type { Logger } from '../log.ts';
import { statesAllowing, transition, type FaultAction } from './lifecycle.ts';
import type { Notifier } from './notifier.ts';
import { createOpenFaults } from './openFaults.ts';
import type { FaultSink } from './ruleEngine.ts';
import type { WebhookEvent, WebhookFault } from './webhook.ts';

const CHUNK = 250;

export interface FaultServiceDeps {
  db: Db;
  bus: EventBus;
  timeline: TimelineWriter;
  audit: AuditLog;
  notifier: Pick<Notifier, 'wants' | 'enqueue'>;
  log: Logger;
}

export const newFaultId = () => newId('flt');

/** The fields a webhook body and a live event both name a fault by (each adds its own after them). */
const faultIdentity = (r: FaultRow) => ({
  id: r.id,
  deviceId: r.deviceId,
  code: r.code,
  title: r.title,
  severity: r.severity,
  state: r.state,
  detail: r.detail,
});

const toWebhook = (r: FaultRow): WebhookFault => ({
  ...faultIdentity(r),
  openedAt: r.openedAt.toISOString(),
  resolvedAt: r.resolvedAt?.toISOString() ?? null,
  resolution: r.resolution,
});

const live = (r: FaultRow, action: FaultLiveEvent['action'], by: string | null): FaultLiveEvent => ({
  ...faultIdentity(r),
  assigneeId: r.assigneeId,
  openedAt: r.openedAt.toISOString(),
  action,
  by,
});

export function createFaultService(deps: FaultServiceDeps) {
  const { db, log } = deps;
  const open = createOpenFaults();
  const dirty = new Set<FaultRow>();
  let notifications: { event: WebhookEvent; fault: WebhookFault }[] = [];
  let writing: Promise<void> | null = null;
  /** Ids resolved in memory since the current reconcile began (its snapshot may predate them). */
  let resolvedSince: Set<string> | null = null;

  function record(r: FaultRow, action: FaultLiveEvent['action'], summary: string, by: Principal | null, extra: Record<string, unknown> = {}) {
    deps.timeline.add({
      deviceId: r.deviceId,
      kind: 'fault',
      summary,
      data: { faultId: r.id, code: r.code, severity: r.severity, state: r.state, action, by: by?.userId ?? null, ...extra },
    });
    deps.bus.emit(action === 'opened' ? 'fault.opened' : 'fault.updated', live(r, action, by?.userId ?? null));
  }

  function notify(r: FaultRow, event: WebhookEvent) {
    if (deps.notifier.wants(r.severity)) notifications.push({ event, fault: toWebhook(r) });
  }

  function resolveInMemory(r: FaultRow, at: Date, by: Principal | null, resolution: 'auto' | 'manual') {
    r.state = 'resolved';
    r.resolvedAt = at;
    r.resolvedBy = by?.userId ?? null;
    r.resolution = resolution;
    r.updatedAt = at;
    open.remove(r);
    resolvedSince?.add(r.id);
  }

  /** The rule engine's sink: runs on the ingest path, memory only. */
  const sink: FaultSink = {
    openCodes: (deviceId) => open.codes(deviceId),
    raise(deviceId, rule, detail, nowMs) {
      const at = new Date(nowMs);
      const r: FaultRow = {
        id: newFaultId(),
        deviceId,
        code: rule.code,
        title: rule.title,
        severity: rule.severity,
        severityRank: severityRank[rule.severity],
        state: 'open',
        detail: detail.slice(0, 500),
        openedAt: at,
        acknowledgedAt: null,
        acknowledgedBy: null,
        resolvedAt: null,
        resolvedBy: null,
        resolution: null,
        assigneeId: null,
        assignedAt: null,
        updatedAt: at,
      };
      open.add(r);
      dirty.add(r);
      record(r, 'opened', `fault opened: ${r.code} (${r.severity}) ${r.detail ?? ''}`.trim(), null, { detail: r.detail });
      notify(r, 'fault.opened');
    },
    clear(deviceId, rule, nowMs) {
      const r = open.find(deviceId, rule.code);
      if (!r) return;
      resolveInMemory(r, new Date(nowMs), null, 'auto');
      dirty.add(r);
      record(r, 'resolved', `fault resolved: ${r.code} (condition cleared)`, null, { resolution: 'auto' });
      notify(r, 'fault.resolved');
    },
  };

  async function upsert(rows: FaultRow[]) {
    await db
      .insert(faults)
      .values(rows)
      .onConflictDoUpdate({
        target: faults.id,
        set: {
          // A fault resolved elsewhere (the API, another instance) stays resolved.
          state: sql`case when ${faults.state} = 'resolved' then ${faults.state} else excluded.state end`,
          resolvedAt: sql`coalesce(${faults.resolvedAt}, excluded.resolved_at)`,
          resolvedBy: sql`coalesce(${faults.resolvedBy}, excluded.resolved_by)`,
          resolution: sql`coalesce(${faults.resolution}, excluded.resolution)`,
          updatedAt: sql`excluded.updated_at`,
        },
      });
  }

  /** Another instance (or a race) holds the open fault of this device and code: use that one. */
  async function adoptExisting(r: FaultRow) {
    const [existing] = await db
      .select()
      .from(faults)
      .where(and(eq(faults.deviceId, r.deviceId), eq(faults.code, r.code), ne(faults.state, 'resolved')))
      .limit(1);
    if (open.get(r.id)) open.remove(r);
    if (existing && !open.find(existing.deviceId, existing.code)) open.add(existing);
  }

  async function writeOnce(notifyNow: boolean) {
    const rows = [...dirty];
    dirty.clear();
    const pending = notifications;
    notifications = [];
    const lost = new Set<string>();
    const retry = new Set<string>();
    for (let i = 0; i < rows.length; i += CHUNK) {
      const chunk = rows.slice(i, i + CHUNK);
      try {
        await upsert(chunk);
      } catch (batchErr) {
        log.warn({ err: batchErr }, 'fault batch write failed; writing rows singly');
        for (const r of chunk) {
          try {
            await upsert([r]);
          } catch (err) {
            const state = sqlState(err);
            if (state === '23505') {
              lost.add(r.id);
              await adoptExisting(r).catch(() => undefined);
            } else if (state === '23503') {
              lost.add(r.id); // the device is gone
              open.remove(r);
            } else {
              retry.add(r.id);
              dirty.add(r);
            }
          }
        }
      }
    }
    const ready = pending.filter((n) => !lost.has(n.fault.id) && !retry.has(n.fault.id));
    notifications = pending.filter((n) => retry.has(n.fault.id)).concat(notifications);
    if (!notifyNow) {
      if (ready.length) log.warn({ count: ready.length }, 'fault notifications not queued (shutting down)');
    } else if (ready.length) {
      await deps.notifier.enqueue(ready).catch((err: unknown) => {
        log.warn({ err }, 'could not queue fault notifications; will retry');
        notifications = ready.concat(notifications);
      });
    }
  }

  async function flush(opts: { notify?: boolean } = {}) {
    while (writing) await writing;
    writing = writeOnce(opts.notify ?? true)
      .catch((err: unknown) => log.error({ err }, 'fault flush failed'))
      .finally(() => (writing = null));
    await writing;
  }

  async function load() {
    const rows = await db.select().from(faults).where(ne(faults.state, 'resolved'));
    for (const r of rows) open.add(r);
    return rows.length;
  }

  /** Catches up with changes made by other instances sharing the database. */
  async function reconcile() {
    await flush();
    const started = Date.now();
    const resolved = (resolvedSince = new Set());
    try {
      const rows = await db.select().from(faults).where(ne(faults.state, 'resolved'));
      const ids = new Set(rows.map((r) => r.id));
      for (const mem of [...open.all()]) {
        if (!ids.has(mem.id) && !dirty.has(mem) && mem.updatedAt.getTime() < started) open.remove(mem);
      }
      for (const r of rows) {
        const mem = open.get(r.id);
        if (mem) Object.assign(mem, { state: r.state, acknowledgedAt: r.acknowledgedAt, acknowledgedBy: r.acknowledgedBy, assigneeId: r.assigneeId, assignedAt: r.assignedAt });
        else if (!resolved.has(r.id) && !open.find(r.deviceId, r.code)) open.add(r);
      }
    } finally {
      resolvedSince = null;
    }
  }

  const byId = (id: string): Promise<FaultRow> =>
    firstOrNotFound(db.select().from(faults).where(eq(faults.id, id)).limit(1), `fault ${id}`);

  /** One API change: conditional UPDATE + audit in one transaction, then memory, timeline, stream. */
  async function change(
    id: string,
    action: FaultAction,
    actor: Principal,
    ip: string | undefined,
    set: Partial<FaultRow>,
    data: Record<string, unknown> = {},
    /** More of the same change (a resolution's note), written before the entry in its transaction. */
    alongside?: (tx: Tx) => Promise<unknown>,
  ): Promise<FaultRow> {
    await flush();
    const allowed = statesAllowing(action);
    const row = await db.transaction(async (tx) => {
      const [r] = await tx
        .update(faults)
        .set({ ...set, updatedAt: new Date() })
        .where(and(eq(faults.id, id), inArray(faults.state, allowed)))
        .returning();
      if (!r) return undefined;
      await alongside?.(tx);
      await deps.audit.append({ actor, action: `fault.${action}`, target: id, ip, data: { deviceId: r.deviceId, code: r.code, ...data } }, tx);
      return r;
    });
    if (!row) {
      const current = await byId(id);
      const t = transition(current.state, action);
      throw conflict(t.ok ? 'fault_changed' : t.code, t.ok ? 'the fault changed meanwhile; try again' : t.message);
    }
    const mem = open.get(id);
    if (mem && mem.state !== 'resolved') {
      if (row.state === 'resolved') {
        resolveInMemory(mem, row.resolvedAt ?? new Date(), actor, 'manual');
      } else {
        Object.assign(mem, { state: row.state, acknowledgedAt: row.acknowledgedAt, acknowledgedBy: row.acknowledgedBy, assigneeId: row.assigneeId, assignedAt: row.assignedAt });
      }
    }
    return row;
  }

  return {
    sink,
    flush,
    load,
    reconcile,
    byId,
    openFaults: open,
    pending: () => dirty.size,

    async acknowledge(id: string, actor: Principal, ip?: string) {
      const r = await change(id, 'acknowledge', actor, ip, { state: 'acknowledged', acknowledgedAt: new Date(), acknowledgedBy: actor.userId });
      record(r, 'acknowledged', `fault acknowledged: ${r.code} by ${actor.name}`, actor);
      return r;
    },

    async resolve(id: string, actor: Principal, note: string | undefined, ip?: string) {
      const at = new Date();
      const addNote = note ? async (tx: Tx) => tx.insert(faultNotes).values({ faultId: id, authorId: actor.userId, authorName: actor.name, text: note, ts: at }) : undefined;
      const r = await change(id, 'resolve', actor, ip, { state: 'resolved', resolvedAt: at, resolvedBy: actor.userId, resolution: 'manual' }, note ? { note } : {}, addNote);
      record(r, 'resolved', `fault resolved: ${r.code} by ${actor.name}`, actor, { resolution: 'manual' });
      notify(r, 'fault.resolved');
      if (notifications.length) void flush();
      return r;
    },

    async assign(id: string, assigneeId: string | null, actor: Principal, ip?: string) {
      const r = await change(id, 'assign', actor, ip, { assigneeId, assignedAt: assigneeId ? new Date() : null }, { assigneeId });
      record(r, 'assigned', assigneeId ? `fault ${r.code} assigned to ${assigneeId}` : `fault ${r.code} unassigned`, actor, { assigneeId });
      return r;
    },

    async addNote(id: string, text: string, actor: Principal, ip?: string) {
      await flush();
      const note = await db.transaction(async (tx) => {
        const [f] = await tx.select({ id: faults.id, deviceId: faults.deviceId, code: faults.code }).from(faults).where(eq(faults.id, id)).limit(1);
        if (!f) throw notFound(`fault ${id}`);
        // A note is activity on the fault: it moves up in the `updated` order of the queue. (Times
        // from here, in milliseconds, like every other fault time: keyset cursors carry milliseconds.)
        const at = new Date();
        const [n] = await tx.insert(faultNotes).values({ faultId: id, authorId: actor.userId, authorName: actor.name, text, ts: at }).returning();
        await tx.update(faults).set({ updatedAt: at }).where(eq(faults.id, id));
        await deps.audit.append({ actor, action: 'fault.note', target: id, ip, data: { deviceId: f.deviceId, code: f.code, noteId: n!.id } }, tx);
        return n!;
      });
      const r = await byId(id);
      record(r, 'noted', `note on fault ${r.code} by ${actor.name}`, actor, { noteId: note.id });
      return note;
    },

    async notes(id: string) {
      return db.select().from(faultNotes).where(eq(faultNotes.faultId, id)).orderBy(faultNotes.id);
    },

    /** Open faults by severity (for metrics). */
    openBySeverity(): Record<string, number> {
      const out: Record<string, number> = { info: 0, warning: 0, major: 0, critical: 0 };
      for (const r of open.all()) out[r.severity] = (out[r.severity] ?? 0) + 1;
      return out;
    },
  };
}

export type FaultService = ReturnType<typeof createFaultService>;
export type { FaultState };
