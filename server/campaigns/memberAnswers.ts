// A campaign command's answers: every `command.updated` of a member's command is read by the
// kind (`judge`) into a verdict, and the verdict into the member's record (campaignRules.ts).
import { commandStates, type CommandState } from '../../schemas/db.ts';
import type { CampaignDeviceRecord } from '../../schemas/tables/campaigns.ts';
import type { LiveEvents } from '../events/eventBus.ts';
import type { LiveState } from '../telemetry/liveState.ts';
import type { AbortWatch } from './abortWatch.ts';
import type { CampaignLifecycle } from './campaignLifecycle.ts';
import type { CommandUpdate, Verdict } from './campaignKind.ts';
import { applyVerdict, isFinalDeviceState } from './campaignRules.ts';
import type { MemberRecords } from './memberRecords.ts';
import type { CampaignMemory, RunningCampaign } from './runningCampaign.ts';

export type CommandChange = Pick<LiveEvents['command.updated'], 'id' | 'state' | 'stage' | 'progress' | 'error' | 'result'>;

// The bus carries the state as text; the command service only ever sets one of these.
const isCommandState = (s: string): s is CommandState => (commandStates as readonly string[]).includes(s);

export interface MemberAnswersDeps extends CampaignMemory {
  records: MemberRecords;
  lifecycle: CampaignLifecycle;
  aborts: AbortWatch;
  liveState: LiveState;
  retryBaseMs: number;
}

function verdictFor(c: RunningCampaign, r: CampaignDeviceRecord, u: CommandUpdate): Verdict {
  switch (u.state) {
    case 'pending':
    case 'queued':
    case 'cancelled':
    case 'sent':
      return { outcome: 'ignore' };
    case 'expired':
      return { outcome: 'failed', code: 'expired', message: 'the command expired before the device finished it', transient: true };
    default:
      return c.open.judge(u, { campaignId: c.row.id, deviceId: r.deviceId, attempt: r.attempt, action: r.action });
  }
}

export function createMemberAnswers(deps: MemberAnswersDeps) {
  const { records } = deps;
  return function onCommandChange(e: CommandChange) {
    if (deps.aborts.onAnswer(e.id, e.state, e.error?.code ?? null)) return;
    const r = deps.byCommand.get(e.id);
    if (!r) return;
    const c = deps.running.get(r.campaignId);
    if (!c || !isCommandState(e.state)) return;
    const now = Date.now();
    if (e.state === 'sent' && r.lastHeardAt === null) records.patch(c, r, { lastHeardAt: now });
    const update: CommandUpdate = {
      commandId: e.id,
      state: e.state,
      stage: e.stage,
      progress: e.progress,
      error: e.error,
      result: e.result,
    };
    const change = applyVerdict(r, verdictFor(c, r, update), { retries: c.spec.retries, retryBaseMs: deps.retryBaseMs, nowMs: now });
    if (!change) return;
    if (isFinalDeviceState(change.state ?? r.state) && !change.reportedVersion && !r.reportedVersion) {
      change.reportedVersion = deps.liveState.get(r.deviceId)?.fwVersion ?? null;
    }
    records.patch(c, r, change);
    if (isFinalDeviceState(r.state) || r.state === 'pending') deps.byCommand.delete(e.id);
    if (isFinalDeviceState(r.state)) {
      if (c.row.rollingBack && r.action === 'apply' && r.state === 'succeeded') deps.lifecycle.startRevert(c, [r]);
      else records.patch(c, r, { active: false });
    }
    deps.lifecycle.afterChange(c);
  };
}
