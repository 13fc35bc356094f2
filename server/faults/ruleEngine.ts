// Turns rules (data) into small functions once, then runs them on the ingest hot path: O(rules)
// per sample, synchronous, no allocation unless a fault opens or clears. It decides when a
// condition holds or clears; what that means for a fault is the sink's business.
import type { FaultRule, RuleCondition, RuleMetric } from '../../schemas/faults.ts';
import { severityRank } from '../../schemas/faults.ts';
import type { DeviceEvent, HealthSample } from '../../schemas/wire.ts';

export interface FaultSink {
  /** Codes of the device's unresolved faults (undefined when it has none). */
  openCodes(deviceId: string): ReadonlyMap<string, unknown> | undefined;
  /** The rule's condition holds and no fault of its code is open. */
  raise(deviceId: string, rule: FaultRule, detail: string, nowMs: number): void;
  /** The condition cleared, the rule auto-resolves, and a fault of its code is open. */
  clear(deviceId: string, rule: FaultRule, nowMs: number): void;
}

/** true: the condition holds; false: it does not; null: this input says nothing about it. */
export type Verdict = boolean | null;

interface SampleTest {
  rule: FaultRule;
  test(deviceId: string, s: HealthSample): Verdict;
  describe(deviceId: string, s: HealthSample): string;
  /** Drops what the test remembers of a device (a window of past samples). */
  forget?(deviceId: string): void;
}

interface EventTest {
  rule: FaultRule;
  test(ev: DeviceEvent): Verdict;
}

const metricReaders: Record<RuleMetric, (s: HealthSample) => number | undefined> = {
  'battery.level': (s) => s.battery?.level,
  temperatureC: (s) => s.temperatureC,
  'storage.freePct': (s) => (s.storage ? (s.storage.freeMb / s.storage.totalMb) * 100 : undefined),
  'memory.freeMb': (s) => s.memory?.freeMb,
  'signal.rssi': (s) => s.signal?.rssi,
};

const metricIndex: Record<RuleMetric, number> = { 'battery.level': 0, temperatureC: 1, 'storage.freePct': 2, 'memory.freeMb': 3, 'signal.rssi': 4 };

const round = (n: number) => Math.round(n * 10) / 10;

function popcount(n: number): number {
  let x = n - ((n >>> 1) & 0x55555555);
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (((x + (x >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}

const ALL_READERS = ['msr', 'icc', 'nfc'] as const;

/** Whether any card reader reports an error: null when none reports at all. */
function readerError(s: HealthSample, readers: readonly ('msr' | 'icc' | 'nfc')[]): Verdict {
  const cr = s.cardReader;
  if (!cr) return null;
  let known = false;
  for (let i = 0; i < readers.length; i++) {
    const v = cr[readers[i]!];
    if (v === 'error') return true;
    if (v !== undefined && v !== 'absent') known = true;
  }
  return known ? false : null;
}

function sampleTest(rule: FaultRule, when: RuleCondition): SampleTest | null {
  switch (when.type) {
    case 'metric': {
      // Inlined reads and comparisons (no nested calls): this runs for every sample.
      const m = metricIndex[when.metric];
      const op = when.op === '<' ? 0 : when.op === '<=' ? 1 : when.op === '>' ? 2 : 3;
      const { value, unlessCharging } = when;
      const below = op < 2;
      // Between the threshold and clearValue a value says nothing: no flapping around the line.
      const clearAt = when.clearValue ?? value;
      return {
        rule,
        test: (_id, s) => {
          let v: number | undefined;
          if (m === 0) v = s.battery?.level;
          else if (m === 1) v = s.temperatureC;
          else if (m === 2) v = s.storage === undefined ? undefined : (s.storage.freeMb / s.storage.totalMb) * 100;
          else if (m === 3) v = s.memory?.freeMb;
          else v = s.signal?.rssi;
          if (v === undefined) return null;
          if (unlessCharging && s.battery?.charging === true) return false;
          if (op === 0 ? v < value : op === 1 ? v <= value : op === 2 ? v > value : v >= value) return true;
          return (below ? v >= clearAt : v <= clearAt) ? false : null;
        },
        describe: (_id, s) => `${when.metric} ${round(metricReaders[when.metric](s) ?? Number.NaN)} ${when.op} ${value}`,
      };
    }
    case 'printer': {
      const statuses = new Set<string>(when.statuses);
      return {
        rule,
        test: (_id, s) => (s.printer ? statuses.has(s.printer.status) : null),
        describe: (_id, s) => `printer ${s.printer?.status ?? 'unknown'}`,
      };
    }
    case 'cardReader': {
      const readers = when.readers;
      return {
        rule,
        test: (_id, s) => readerError(s, readers),
        describe: (_id, s) => `${readers.filter((r) => s.cardReader?.[r] === 'error').join(', ')} reader error`,
      };
    }
    case 'cardReaderErrorRate': {
      // Per device, the last `window` verdicts as bits; devices that never erred take no memory.
      const windows = new Map<string, number>();
      const mask = when.window >= 32 ? 0xffffffff : (1 << when.window) - 1;
      const needed = Math.max(1, Math.ceil(when.minRatio * when.window));
      return {
        rule,
        test: (id, s) => {
          const err = readerError(s, ALL_READERS);
          if (err === null) return null;
          const before = windows.get(id);
          if (before === undefined && !err) return false;
          const bits = (((before ?? 0) << 1) | (err ? 1 : 0)) & mask;
          if (bits === 0) windows.delete(id);
          else windows.set(id, bits >>> 0);
          return popcount(bits >>> 0) >= needed;
        },
        describe: (id) => `${popcount((windows.get(id) ?? 0) >>> 0)} of the last ${when.window} samples with a card reader error`,
        forget: (id) => void windows.delete(id),
      };
    }
    case 'tamper':
      return { rule, test: (_id, s) => (s.tamper === undefined ? null : s.tamper), describe: () => 'tamper switch open' };
    default:
      return null;
  }
}

function eventTest(rule: FaultRule, when: RuleCondition): EventTest | null {
  switch (when.type) {
    case 'tamper':
      return { rule, test: (ev) => (ev.type === 'tamper' ? true : null) };
    case 'event': {
      const min = when.minSeverity ? severityRank[when.minSeverity] : -1;
      return {
        rule,
        test: (ev) => {
          if (ev.type !== when.eventType) return null;
          if (when.code !== undefined && ev.data.code !== when.code) return null;
          if (ev.data.active === false) return false;
          return severityRank[ev.severity ?? 'info'] >= min ? true : null;
        },
      };
    }
    default:
      return null;
  }
}

export interface RuleEngine {
  rules(): readonly FaultRule[];
  /** Replaces the rules (compiled once here); offline tracking carries over. */
  setRules(rules: readonly FaultRule[]): void;
  /** `nowMs` defaults to the engine's clock, read only when a fault opens or clears. */
  health(deviceId: string, sample: HealthSample, nowMs?: number): void;
  event(deviceId: string, ev: DeviceEvent, nowMs?: number): void;
  presence(deviceId: string, online: boolean, nowMs: number): void;
  /** A domain alert (merchants: `relocated`, `txn_limit_breach`). */
  alert(deviceId: string, alert: string, active: boolean, detail: string, nowMs: number): void;
  /** Raises `offline` faults for devices offline past a rule's threshold. */
  sweep(nowMs: number): void;
  /** How often sweep() should run, or null without offline rules. */
  sweepIntervalMs(): number | null;
  /** A device known to be offline since `sinceMs` (at start). */
  seedOffline(deviceId: string, sinceMs: number): void;
  /**
   * Stops watching a device (revoked, deleted, or now held by another instance of the cluster,
   * where its samples arrive from now on): its offline timer and sample windows are dropped.
   */
  forget(deviceId: string): void;
}

export function createRuleEngine(initial: readonly FaultRule[], sink: FaultSink, now: () => number = Date.now): RuleEngine {
  let all: readonly FaultRule[] = [];
  let samples: SampleTest[] = [];
  let events: EventTest[] = [];
  let offline: { rule: FaultRule; ms: number }[] = [];
  let alerts = new Map<string, FaultRule[]>();
  const offlineSince = new Map<string, number>();

  function apply(deviceId: string, rule: FaultRule, v: Verdict, open: ReadonlyMap<string, unknown> | undefined, detail: () => string, nowMs: number) {
    if (v === true) {
      if (!open?.has(rule.code)) sink.raise(deviceId, rule, detail(), nowMs);
    } else if (v === false && rule.autoResolve && open?.has(rule.code)) {
      sink.clear(deviceId, rule, nowMs);
    }
  }

  function setRules(rules: readonly FaultRule[]) {
    const enabled = rules.filter((r) => r.enabled);
    all = rules;
    samples = enabled.map((r) => sampleTest(r, r.when)).filter((t): t is SampleTest => t !== null);
    events = enabled.map((r) => eventTest(r, r.when)).filter((t): t is EventTest => t !== null);
    offline = enabled.flatMap((r) => (r.when.type === 'offline' ? [{ rule: r, ms: r.when.minutes * 60_000 }] : []));
    alerts = new Map();
    for (const r of enabled) if (r.when.type === 'alert') alerts.set(r.when.alert, [...(alerts.get(r.when.alert) ?? []), r]);
  }
  setRules(initial);

  return {
    rules: () => all,
    setRules,
    health(deviceId, sample, nowMs) {
      const open = sink.openCodes(deviceId);
      for (let i = 0; i < samples.length; i++) {
        const t = samples[i]!;
        const v = t.test(deviceId, sample);
        // Inlined rather than apply(): no closure per rule per sample.
        if (v === true) {
          if (!open?.has(t.rule.code)) sink.raise(deviceId, t.rule, t.describe(deviceId, sample), nowMs ?? now());
        } else if (v === false && open !== undefined && t.rule.autoResolve && open.has(t.rule.code)) {
          sink.clear(deviceId, t.rule, nowMs ?? now());
        }
      }
    },
    event(deviceId, ev, nowMs) {
      if (!events.length) return;
      const open = sink.openCodes(deviceId);
      for (let i = 0; i < events.length; i++) {
        const t = events[i]!;
        const v = t.test(ev);
        if (v === null) continue;
        const detail = () => (typeof ev.data.detail === 'string' ? ev.data.detail : `${ev.type} event${ev.severity ? ` (${ev.severity})` : ''}`);
        apply(deviceId, t.rule, v, open, detail, nowMs ?? now());
      }
    },
    presence(deviceId, online, nowMs) {
      if (!online) {
        if (!offlineSince.has(deviceId)) offlineSince.set(deviceId, nowMs);
        return;
      }
      offlineSince.delete(deviceId);
      const open = sink.openCodes(deviceId);
      if (!open) return;
      for (const o of offline) apply(deviceId, o.rule, false, open, () => '', nowMs);
    },
    alert(deviceId, alert, active, detail, nowMs) {
      const rules = alerts.get(alert);
      if (!rules) return;
      const open = sink.openCodes(deviceId);
      for (const r of rules) apply(deviceId, r, active, open, () => detail, nowMs);
    },
    sweep(nowMs) {
      if (!offline.length) return;
      for (const [deviceId, since] of offlineSince) {
        const open = sink.openCodes(deviceId);
        for (const o of offline) {
          if (nowMs - since > o.ms) apply(deviceId, o.rule, true, open, () => `offline since ${new Date(since).toISOString()}`, nowMs);
        }
      }
    },
    sweepIntervalMs() {
      if (!offline.length) return null;
      const shortest = Math.min(...offline.map((o) => o.ms));
      return Math.min(5000, Math.max(100, Math.floor(shortest / 4)));
    },
    seedOffline(deviceId, sinceMs) {
      if (!offlineSince.has(deviceId)) offlineSince.set(deviceId, sinceMs);
    },
    forget(deviceId) {
      offlineSince.delete(deviceId);
      for (const t of samples) t.forget?.(deviceId);
    },
  };
}
