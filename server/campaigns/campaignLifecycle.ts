// The campaign-wide transitions: stopping at the error threshold (and starting the rollback),
// and finishing. A finish writes every member record and waits for the kind's effects before it
// stores the final state, so a campaign that reads as finished has every effect readable too.
import type { CampaignDeviceRecord, CampaignState } from '../../schemas/tables/campaigns.ts';
import type { AuditLog } from '../audit/auditLog.ts';
import type { CommandService } from '../commands/commandService.ts';
import type { InTx } from '../core/transaction.ts';
import type { EventBus } from '../events/eventBus.ts';
import type { Logger } from '../log.ts';
import { ABORT_WATCH_MS, type AbortWatch } from './abortWatch.ts';
import { abortNotes, isFinalDeviceState } from './campaignRules.ts';
import type { MemberRecords } from './memberRecords.ts';
import { decide, type Decision } from './phaseConditions.ts';
import { effectiveState, emitCampaign, type CampaignMemory, type RunningCampaign } from './runningCampaign.ts';

export interface CampaignLifecycleDeps extends CampaignMemory {
  records: MemberRecords;
  aborts: AbortWatch;
  commands: CommandService;
  audit: AuditLog;
  bus: EventBus;
  log: Logger;
  /** Asks for a tick soon. */
  kick(): void;
  /** Once the campaign's sends under way are done (memberSends.ts `settled`). */
  sendsSettled(c: RunningCampaign): Promise<void>;
}

export function createCampaignLifecycle(deps: CampaignLifecycleDeps) {
  const { records, log } = deps;
  /** Campaigns whose finish is under way. */
  const finishing = new Set<string>();

  const decision = (c: RunningCampaign): Decision =>
    decide(
      {
        state: effectiveState(c),
        phasesStarted: c.row.phasesStarted,
        phases: c.counts,
        errorBaseline: c.row.errorBaseline,
        rollingBack: c.row.rollingBack,
        revertsOpen: c.revertsOpen,
        dynamic: c.spec.dynamic,
      },
      c.spec,
    );

  function startRevert(c: RunningCampaign, list: CampaignDeviceRecord[]) {
    if (!c.open.revert) return;
    for (const r of list)
      records.patch(c, r, {
        action: 'revert',
        state: 'pending',
        nextAttemptAt: null,
        commandId: null,
        progress: null,
        finishedAt: null,
        active: true,
        note: 'rollback pending',
      });
  }

  async function trip(c: RunningCampaign, d: Extract<Decision, { kind: 'trip' }>) {
    if (effectiveState(c) !== 'running') return;
    const tripped = {
      reason: 'error_threshold',
      phase: d.phase,
      ...d.tally,
      errorThreshold: c.spec.errorThreshold,
      at: new Date().toISOString(),
    };
    // In memory first and synchronously: no send may slip out after the crossing answer.
    c.row.state = 'paused';
    c.row.pausedReason = 'error_threshold';
    c.row.tripped = tripped;
    if (d.rollback) c.row.rollingBack = true;
    log.warn({ campaign: c.row.id, ...tripped }, 'campaign stopped at its error threshold');
    if (d.rollback)
      startRevert(
        c,
        [...c.members.values()].filter((r) => r.action === 'apply' && r.state === 'succeeded'),
      );
    // Stored with its entry: if the entry is refused the row stays running, and a restart trips again.
    await records.saveRow(c, { state: 'paused', pausedReason: 'error_threshold', tripped, rollingBack: c.row.rollingBack }, (tx) =>
      deps.audit.append(
        {
          actor: null,
          action: 'campaign.error_threshold',
          target: c.row.id,
          data: { kind: c.kind.name, rollback: d.rollback, ...tripped },
        },
        tx,
      ),
    );
    emitCampaign(deps.bus, c, { reason: 'error_threshold' });
    deps.kick();
  }

  /**
   * Cancels what is open, asks devices already working to abort, then stores the final state
   * (with `inTx`, the operator's audit entry, in its transaction).
   */
  async function finishNow(c: RunningCampaign, state: CampaignState, inTx?: InTx) {
    const now = Date.now();
    // Synchronously: while the records are settled below (each cancel awaits the database), a
    // tick must neither send nor read "everything is cancelled" as succeeded.
    c.ending = state;
    // A send under way (a cancel asked while the tick sends) lands first: its command is then
    // cancelled below like any other, instead of going out after the campaign reads as finished.
    await deps.sendsSettled(c);
    for (const r of c.members.values()) {
      if (!r.active && isFinalDeviceState(r.state)) continue;
      const cancel = !isFinalDeviceState(r.state);
      let asked = false;
      if (cancel && r.commandId) {
        deps.byCommand.delete(r.commandId);
        // A device already working on it is asked to abort; its answer arrives after we are gone.
        const res = await deps.commands.cancelAndAbort(r.deviceId, r.commandId).catch(() => null);
        if (res?.abortId) {
          deps.aborts.watch(res.abortId, {
            rec: r,
            kind: c.kind.name,
            open: c.open,
            target: c.targets.get(r.deviceId),
            until: now + ABORT_WATCH_MS,
          });
          asked = true;
        }
      }
      records.patch(c, r, {
        active: false,
        ...(cancel ? { state: 'cancelled' as const, finishedAt: now, sending: false } : {}),
        ...(asked ? { note: abortNotes.requested } : {}),
      });
    }
    await records.flush();
    await c.open.settled?.();
    await records.saveRow(c, { state, finishedAt: new Date(now) }, inTx);
    deps.running.delete(c.row.id);
    log.info({ campaign: c.row.id, state }, 'campaign finished');
    emitCampaign(deps.bus, c, { reason: 'finished' });
  }

  return {
    decision,
    trip,
    startRevert,

    async finish(c: RunningCampaign, state: CampaignState, inTx?: InTx) {
      if (finishing.has(c.row.id)) return;
      finishing.add(c.row.id);
      try {
        await finishNow(c, state, inTx);
      } finally {
        finishing.delete(c.row.id);
      }
    },

    /**
     * A finish that stopped before its final state was stored (its entry refused, the database
     * away): sends and decisions stay stopped, and the next cancel stores it.
     */
    stalled: (c: RunningCampaign) => c.ending !== null && !finishing.has(c.row.id),

    /** The error rule is checked on every answer, so a campaign stops at the exact answer that crosses it. */
    afterChange(c: RunningCampaign) {
      const d = decision(c);
      if (d.kind === 'trip')
        void trip(c, d).catch((err: unknown) => log.error({ err, campaign: c.row.id }, 'pausing on the error threshold failed'));
      else if (d.kind !== 'none') deps.kick();
    },
  };
}

export type CampaignLifecycle = ReturnType<typeof createCampaignLifecycle>;
