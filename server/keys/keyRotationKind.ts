// Key rotations as a campaign kind (server/campaigns/): the engine owns target, phases,
// thresholds, rate, windows, timeouts and retries; this says what a keys.install carries and
// how its ack reads. A key is installed only when the device's KCV equals the vault's.
import { z } from 'zod';
import { and, eq, inArray } from 'drizzle-orm';
import { commands } from '../../schemas/db.ts';
import { campaignDevices } from '../../schemas/tables/campaigns.ts';
import { rotatableUsages, slotFitsUsage } from '../../schemas/keyCrypto/header.ts';
import { slotName } from '../../schemas/keys.ts';
import { keys } from '../../schemas/tables/keys.ts';
import type { CampaignKind, CommandUpdate, OpenCampaign, Verdict } from '../campaigns/campaignKind.ts';
import type { Db } from '../db/database.ts';
import type { Logger } from '../log.ts';
import { readInstallAck, type Expected } from './ackCheck.ts';
import type { DukptService } from './dukpt/dukptService.ts';
import type { KeyService } from './keyService.ts';

export const KEYS_KIND = 'keys';
export const keyRotationParams = z
  .object({
    /** Key types to replace; TMK replaces the TMK and re-sends the working keys under it. */
    usages: z.array(z.enum(rotatableUsages)).max(4).default([]),
    /** (Re-)inject a DUKPT initial key from this BDK into `slot` (docs/keys.md, "DUKPT injection"). */
    dukpt: z
      .object({ bdkId: z.string().min(1).max(64), slot: slotName.refine((s) => slotFitsUsage(s, 'IK'), 'a DUKPT slot is dukpt or dukpt.<n>').default('dukpt') })
      .strict()
      .optional(),
    /** Lifetime of each keys.install command. */
    commandTtlS: z.number().int().min(10).max(7 * 24 * 3600).default(24 * 3600),
  })
  .strict()
  .refine((p) => p.usages.length > 0 || p.dukpt !== undefined, { message: 'a key rotation names usages, a dukpt injection, or both', path: ['usages'] });
export type KeyRotationParams = z.infer<typeof keyRotationParams>;

/** Codes a device answers that may pass on a later attempt. */
const transientKeyErrors = ['interrupted', 'busy', 'expired', 'internal_error'];

export function judgeKeyInstall(u: CommandUpdate, expected: readonly Expected[] | undefined): Verdict {
  switch (u.state) {
    case 'received':
      return { outcome: 'progress', state: 'sent' };
    case 'in_progress':
      return { outcome: 'progress', state: 'installing' };
    case 'deferred':
      return { outcome: 'deferred', reason: u.error?.code ?? 'deferred' };
    case 'succeeded': {
      if (!expected) return { outcome: 'failed', code: 'unknown_install', message: 'no pending keys for this device', transient: false };
      const r = readInstallAck(u.result, expected);
      return r.ok ? { outcome: 'succeeded' } : { outcome: 'failed', code: r.code, message: r.message, transient: false };
    }
    case 'failed':
    case 'rejected': {
      const code = u.error?.code ?? u.state;
      return { outcome: 'failed', code, ...(u.error?.message ? { message: u.error.message } : {}), transient: transientKeyErrors.includes(code) };
    }
    default:
      return { outcome: 'ignore' };
  }
}

export interface KeyKindDeps {
  db: Db;
  keys: KeyService;
  dukpt: DukptService;
  log: Logger;
  isCompromised(deviceId: string): boolean;
  /** Every final answer goes to the inventory (async; the verdict does not wait for it). */
  settle(deviceId: string, rotationId: string, u: CommandUpdate): void;
  /** Resolves once every answer settled so far is in the inventory. */
  settled(): Promise<unknown>;
}

export function createKeyRotationKind(deps: KeyKindDeps): CampaignKind<KeyRotationParams> {
  /**
   * Members stored as succeeded whose keys are still pending: a leader stored the member's answer
   * and stopped (in a cluster: died) before the inventory write that the answer started. Their
   * stored answer is settled again, before the campaign can read as finished (`settled`).
   */
  async function settleStoredSuccesses(campaignId: string, pendingDevices: string[]) {
    if (!pendingDevices.length) return;
    const answered = await deps.db
      .select({ deviceId: campaignDevices.deviceId, commandId: commands.id, state: commands.state, stage: commands.stage, progress: commands.progress, error: commands.error, result: commands.result })
      .from(campaignDevices)
      .innerJoin(commands, eq(commands.id, campaignDevices.commandId))
      .where(and(eq(campaignDevices.campaignId, campaignId), eq(campaignDevices.state, 'succeeded'), eq(commands.state, 'succeeded'), inArray(campaignDevices.deviceId, pendingDevices)));
    for (const a of answered) deps.settle(a.deviceId, campaignId, a);
    if (answered.length) deps.log.warn({ campaign: campaignId, devices: answered.length }, 'key installs answered before a leader change settled again');
  }

  return {
    name: KEYS_KIND,
    lane: 'keys',
    params: keyRotationParams,
    // A key install is one small message: more in flight, larger coalesced inserts, fewer
    // round trips per device (each batch of prepares reads and writes its keys in four statements).
    sendConcurrency: 512,
    async open(params, campaignId): Promise<OpenCampaign> {
      // Expected KCVs of keys in flight: rebuilt from the database after a restart.
      const expected = new Map<string, Expected[]>();
      const pending = await deps.db
        .select({ id: keys.id, deviceId: keys.deviceId, kcv: keys.kcv })
        .from(keys)
        .where(and(eq(keys.rotationId, campaignId), eq(keys.state, 'pending')));
      for (const p of pending) {
        const list = expected.get(p.deviceId) ?? [];
        list.push({ keyId: p.id, kcv: p.kcv });
        expected.set(p.deviceId, list);
      }
      await settleStoredSuccesses(campaignId, [...expected.keys()]);
      const usages = [...new Set(params.usages)];
      const inject = params.dukpt;
      // Refused at creation (and reported at a restart) when the BDK is unknown or retired.
      if (inject) await deps.dukpt.activeBdk(inject.bdkId);
      return {
        summary: [usages.length ? `rotate ${usages.join('+')}` : '', inject ? `inject ${inject.slot} from ${inject.bdkId}` : ''].filter(Boolean).join(', '),
        screen: (d) => (deps.isCompromised(d.deviceId) ? 'compromised' : null),
        async command(d) {
          const base = await deps.keys.prepare(d.deviceId, usages, campaignId);
          const prepared = inject ? await deps.dukpt.addInitialKey(d.deviceId, campaignId, inject.bdkId, inject.slot, base) : base;
          // Working keys re-sent under a new TMK are checked too: their KCV proves the re-wrap.
          expected.set(d.deviceId, prepared.expected);
          return { type: 'keys.install', payload: prepared.payload, ttlS: params.commandTtlS };
        },
        judge(u, ref) {
          const v = judgeKeyInstall(u, expected.get(ref.deviceId));
          if (u.state === 'succeeded' || u.state === 'failed' || u.state === 'rejected') deps.settle(ref.deviceId, campaignId, u);
          return v;
        },
        isDone: () => null,
        // A rotation reads as finished only once the keys it installed read as installed.
        settled: () => deps.settled(),
      };
    },
  };
}
