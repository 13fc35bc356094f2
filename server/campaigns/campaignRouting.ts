// Controls of a campaign reach its leader. An instance that leads it (or takes the lead because
// nobody holds it) acts itself; otherwise it asks the leader over the cluster link and answers
// with what the database then says (the leader stores every control's change before it answers).
// A peer's AppError (409 invalid_state, 404...) crosses with its code. Who asked travels with the
// control: the leader writes its audit entry in the transaction of the change it records.
import { z } from 'zod';
import { roles } from '../../schemas/db.ts';
import type { ClusterLink } from '../cluster/clusterLink.ts';
import { isDiskFull } from '../core/diskFull.ts';
import { isDatabaseUnreachable } from '../db/databaseErrors.ts';
import { AppError } from '../errors.ts';
import type { CampaignLeadership } from './campaignLeadership.ts';
import type { CampaignSummary } from './campaignSummary.ts';

export const controlActions = ['start', 'pause', 'resume', 'cancel'] as const;
export type ControlAction = (typeof controlActions)[number];

/** A control as its audit entry names it: who (null: the server's scheduler), from where, and the verb (`rollout.pause`). */
export const controlActor = z.object({
  actor: z.object({ userId: z.string(), name: z.string(), role: z.enum(roles), orgId: z.string(), orgPath: z.string() }).nullable(),
  ip: z.string().optional(),
  action: z.string().min(1),
});
export type ControlActor = z.infer<typeof controlActor>;

/** `by` absent: the server's own control (a key-age policy starting its rotation), audited with its creation. */
type Control = (kind: string, id: string, by?: ControlActor) => Promise<CampaignSummary>;

const controlParams = z.object({ kind: z.string().min(1), id: z.string().min(1), by: controlActor.optional() });
/** A cancel writes every member's final state before it answers: more than the link's default. */
const CONTROL_TIMEOUT_MS = 30_000;
/** Tries when the lease was free at one moment and taken the next (a claim pass won meanwhile). */
const TRIES = 3;

const method = (action: ControlAction) => `campaign.${action}`;

/**
 * What the leader answers for a control that failed, as a single instance would answer it
 * (http/errorHandler.ts): the change and its entry did not commit (e.g. the entry was refused), so
 * only an unreachable database stays a 503, which the caller tries again.
 */
function asPeerAnswer(err: unknown, message: string): unknown {
  if (err instanceof AppError || isDatabaseUnreachable(err)) return err;
  if (isDiskFull(err)) return new AppError(507, 'insufficient_storage', message, undefined, { cause: err });
  return new AppError(500, 'internal', message, undefined, { cause: err });
}

export interface ControlRoutingDeps {
  /** Absent for a single instance: every control is local. */
  cluster?: { leadership: CampaignLeadership; link: ClusterLink };
  controls: Record<ControlAction, Control>;
  /** The summary this instance reads after the leader acted. */
  readBack: Control;
}

export function createControlRouting(deps: ControlRoutingDeps) {
  const leadership = deps.cluster?.leadership;
  const link = deps.cluster?.link;
  if (leadership && link) {
    for (const action of controlActions) {
      link.serve(method(action), async (params) => {
        const p = controlParams.parse(params);
        let r;
        try {
          r = await leadership.lead(p.id, () => deps.controls[action](p.kind, p.id, p.by));
        } catch (err) {
          throw asPeerAnswer(err, `campaign ${p.id}: ${action} failed on its leader`);
        }
        // It moved on meanwhile: the caller tries again and finds the new leader.
        if (!r.here) throw new AppError(503, 'unavailable', `campaign ${p.id} is led by another instance now`);
        return { state: r.value.state };
      });
    }
  }

  return async function route(action: ControlAction, kind: string, id: string, by?: ControlActor): Promise<CampaignSummary> {
    const local = () => deps.controls[action](kind, id, by);
    if (!leadership || !link) return local();
    let lastError: unknown;
    for (let i = 0; i < TRIES; i++) {
      const r = await leadership.lead(id, local);
      if (r.here) return r.value;
      if (!r.leader) continue;
      try {
        await link.call(r.leader, method(action), { kind, id, by }, CONTROL_TIMEOUT_MS);
        return deps.readBack(kind, id);
      } catch (err) {
        // The leader's own refusal is the answer; an unreachable leader is tried again (it may have just died).
        if (!(err instanceof AppError) || err.status !== 503) throw err;
        lastError = err;
      }
    }
    throw lastError instanceof AppError ? lastError : new AppError(503, 'unavailable', `no instance could act on campaign ${id} now`);
  };
}
