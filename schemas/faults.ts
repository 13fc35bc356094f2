// Fault rules as data (SPEC §7): what turns health samples, device events, presence and domain
// alerts into faults. Validated here, compiled once by server/faults/ruleEngine.ts.
import { z } from 'zod';
import { eventTypes, printerStatus, severities, type Severity } from './wire.ts';

export { severities, type Severity };

/** Higher is worse; the fault queue sorts by it. */
export const severityRank: Record<Severity, number> = { info: 0, warning: 1, major: 2, critical: 3 };

export const faultStates = ['open', 'acknowledged', 'resolved'] as const;
export type FaultState = (typeof faultStates)[number];
export const unresolvedFaultStates: readonly FaultState[] = ['open', 'acknowledged'];

export const faultCode = z.string().regex(/^[a-z][a-z0-9_]{0,47}$/, 'lower-case letters, digits and _ (max 48), starting with a letter');

/** Numbers a `metric` rule can compare. `storage.freePct` is freeMb / totalMb × 100. */
export const ruleMetrics = ['battery.level', 'temperatureC', 'storage.freePct', 'memory.freeMb', 'signal.rssi'] as const;
export type RuleMetric = (typeof ruleMetrics)[number];
export const cardReaders = ['msr', 'icc', 'nfc'] as const;

export const ruleCondition = z.discriminatedUnion('type', [
  z
    .object({
      type: z.literal('metric'),
      metric: z.enum(ruleMetrics),
      op: z.enum(['<', '<=', '>', '>=']),
      value: z.number(),
      /** Battery rules: not while the terminal is charging. */
      unlessCharging: z.boolean().optional(),
      /** Hysteresis: the condition clears only once the value is back past this (e.g. < 15 opens, ≥ 20 clears). */
      clearValue: z.number().optional(),
    })
    .strict(),
  z.object({ type: z.literal('printer'), statuses: z.array(printerStatus).min(1) }).strict(),
  /** Any of these readers reports `error`. */
  z.object({ type: z.literal('cardReader'), readers: z.array(z.enum(cardReaders)).min(1) }).strict(),
  /** At least `minRatio` of the last `window` samples that report the card reader show an error. */
  z.object({ type: z.literal('cardReaderErrorRate'), window: z.number().int().min(2).max(32), minRatio: z.number().gt(0).max(1) }).strict(),
  /** The tamper flag of a health sample, or a `tamper` event. */
  z.object({ type: z.literal('tamper') }).strict(),
  /** Offline (will, disconnect or heartbeat timeout) for longer than this. */
  z.object({ type: z.literal('offline'), minutes: z.number().min(0.01).max(30 * 24 * 60) }).strict(),
  /** A device event of this type (and `data.code`); one with `data.active: false` clears it. */
  z
    .object({
      type: z.literal('event'),
      eventType: z.enum(eventTypes),
      code: z.string().min(1).max(64).optional(),
      minSeverity: z.enum(severities).optional(),
    })
    .strict(),
  /** A `device.alert` from another domain (merchants: `relocated`, `txn_limit`); `active: false` clears it. */
  z.object({ type: z.literal('alert'), alert: faultCode }).strict(),
]);
export type RuleCondition = z.infer<typeof ruleCondition>;

export const faultRule = z
  .object({
    code: faultCode,
    title: z.string().min(1).max(120),
    severity: z.enum(severities),
    enabled: z.boolean().default(true),
    /** Resolve the fault by itself when the condition clears. */
    autoResolve: z.boolean().default(true),
    when: ruleCondition,
  })
  .strict();
export type FaultRule = z.infer<typeof faultRule>;
export type FaultRuleInput = z.input<typeof faultRule>;

export const faultRuleSet = z
  .object({ rules: z.array(faultRule).max(100) })
  .strict()
  .superRefine((set, ctx) => {
    const seen = new Map<string, number>();
    set.rules.forEach((r, i) => {
      const w = r.when;
      if (w.type === 'metric' && w.clearValue !== undefined) {
        const below = w.op === '<' || w.op === '<=';
        if (below ? w.clearValue < w.value : w.clearValue > w.value) {
          ctx.addIssue({ code: 'custom', path: ['rules', i, 'when', 'clearValue'], message: `must be ${below ? 'at least' : 'at most'} value (${w.value})` });
        }
      }
      const first = seen.get(r.code);
      if (first !== undefined) ctx.addIssue({ code: 'custom', path: ['rules', i, 'code'], message: `duplicate code "${r.code}" (also rules.${first})` });
      else seen.set(r.code, i);
    });
  });
export type FaultRuleSet = z.infer<typeof faultRuleSet>;

/** Webhook notifier settings (the signing secret is write-only). */
export const notifierSettingsInput = z
  .object({
    url: z
      .string()
      .url()
      .regex(/^https?:\/\//, 'must be an http(s) URL')
      .nullable(),
    minSeverity: z.enum(severities).default('critical'),
    /** HMAC-SHA256 key for X-Posfleet-Signature; generated (and shown once) when none is set. */
    secret: z.string().min(16).max(256).optional(),
  })
  .strict();
export type NotifierSettingsInput = z.infer<typeof notifierSettingsInput>;

/** The notifier settings as stored (fault_settings `notifier`): the secret is always set once saved. */
export const storedNotifierSettings = notifierSettingsInput.extend({ secret: notifierSettingsInput.shape.secret.nullable() });
export type StoredNotifierSettings = z.infer<typeof storedNotifierSettings>;

/** What a live `fault.opened` / `fault.updated` event carries. */
export interface FaultLiveEvent {
  id: string;
  deviceId: string;
  code: string;
  title: string;
  severity: Severity;
  state: FaultState;
  detail: string | null;
  assigneeId: string | null;
  openedAt: string;
  /** What happened: opened, acknowledged, assigned, noted, resolved. */
  action: 'opened' | 'acknowledged' | 'assigned' | 'noted' | 'resolved';
  by: string | null;
}

/** What a live `diagnostics.updated` / `logs.updated` event carries. */
export interface DeviceJobLiveEvent {
  deviceId: string;
  id: string;
  cmdId: string | null;
  state: string;
}
