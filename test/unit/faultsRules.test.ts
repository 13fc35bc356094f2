// Rules as data: validation, and the engine's verdicts on samples, events, presence and alerts.
import { describe, expect, it } from 'vitest';
import { faultRuleSet, type FaultRule } from '../../schemas/faults.ts';
import type { DeviceEvent, HealthSample } from '../../schemas/wire.ts';
import { defaultRules } from '../../server/faults/defaultRules.ts';
import { createRuleEngine, type FaultSink } from '../../server/faults/ruleEngine.ts';

function recordingSink() {
  const open = new Map<string, Map<string, string>>();
  const log: string[] = [];
  const sink: FaultSink = {
    openCodes: (id) => open.get(id),
    raise(id, rule, detail) {
      let m = open.get(id);
      if (!m) open.set(id, (m = new Map()));
      m.set(rule.code, detail);
      log.push(`open ${id} ${rule.code}: ${detail}`);
    },
    clear(id, rule) {
      open.get(id)?.delete(rule.code);
      if (open.get(id)?.size === 0) open.delete(id);
      log.push(`clear ${id} ${rule.code}`);
    },
  };
  const codes = (id: string) => [...(open.get(id)?.keys() ?? [])].sort();
  return { sink, log, codes, open };
}

let seq = 0;
const sample = (s: Partial<HealthSample> = {}): HealthSample => ({
  ts: Date.now(),
  seq: seq++,
  battery: { level: 80, charging: false },
  temperatureC: 35,
  printer: { status: 'ok' },
  cardReader: { msr: 'ok', icc: 'ok', nfc: 'ok' },
  storage: { freeMb: 500, totalMb: 1000 },
  tamper: false,
  ...s,
});
const event = (e: Partial<DeviceEvent>): DeviceEvent => ({ ts: Date.now(), seq: seq++, type: 'fault', data: {}, ...e });

describe('rule set validation', () => {
  it('accepts the default set', () => {
    const rules = defaultRules();
    expect(rules.map((r) => r.code)).toEqual(
      expect.arrayContaining(['battery_low', 'overheat', 'paper_out', 'card_reader_error', 'card_reader_error_rate', 'tamper', 'offline', 'relocated', 'storage_low']),
    );
    expect(rules.every((r) => r.enabled)).toBe(true);
  });

  it('rejects duplicate codes, unknown condition types, bad thresholds and extra fields, with paths', () => {
    const base = { code: 'x', title: 'X', severity: 'major', when: { type: 'tamper' } };
    const dup = faultRuleSet.safeParse({ rules: [base, base] });
    expect(dup.success).toBe(false);
    expect(dup.error!.issues[0]!.path).toEqual(['rules', 1, 'code']);
    expect(faultRuleSet.safeParse({ rules: [{ ...base, when: { type: 'moon_phase' } }] }).success).toBe(false);
    expect(faultRuleSet.safeParse({ rules: [{ ...base, when: { type: 'offline', minutes: 0 } }] }).success).toBe(false);
    expect(faultRuleSet.safeParse({ rules: [{ ...base, severity: 'urgent' }] }).success).toBe(false);
    expect(faultRuleSet.safeParse({ rules: [{ ...base, code: 'Bad Code' }] }).success).toBe(false);
    expect(faultRuleSet.safeParse({ rules: [{ ...base, extra: 1 }] }).success).toBe(false);
    expect(faultRuleSet.safeParse({ rules: [{ ...base, when: { type: 'metric', metric: 'battery.level', op: '<', value: 15, bogus: true } }] }).success).toBe(false);
  });

  it('fills enabled and autoResolve', () => {
    const r = faultRuleSet.parse({ rules: [{ code: 'x', title: 'X', severity: 'info', when: { type: 'tamper' } }] }).rules[0]!;
    expect(r.enabled).toBe(true);
    expect(r.autoResolve).toBe(true);
  });
});

describe('rule engine on health samples', () => {
  it('a healthy sample opens nothing', () => {
    const s = recordingSink();
    const e = createRuleEngine(defaultRules(), s.sink);
    e.health('d1', sample(), 0);
    expect(s.log).toEqual([]);
  });

  it('opens each default fault from the matching sample, once', () => {
    const s = recordingSink();
    const e = createRuleEngine(defaultRules(), s.sink);
    const bad = sample({
      battery: { level: 10, charging: false },
      temperatureC: 65,
      printer: { status: 'paper_out' },
      cardReader: { msr: 'ok', icc: 'error', nfc: 'ok' },
      storage: { freeMb: 40, totalMb: 1000 },
      tamper: true,
    });
    e.health('d1', bad, 0);
    e.health('d1', bad, 1);
    expect(s.codes('d1')).toEqual(['battery_low', 'card_reader_error', 'overheat', 'paper_out', 'storage_low', 'tamper']);
    expect(s.log.filter((l) => l.startsWith('open'))).toHaveLength(6);
    expect(s.log).toContain('open d1 paper_out: printer paper_out');
    expect(s.log).toContain('open d1 card_reader_error: icc reader error');
    expect(s.log).toContain('open d1 battery_low: battery.level 10 < 15');
  });

  it('hysteresis: a metric clears only once back past clearValue', () => {
    const s = recordingSink();
    const e = createRuleEngine(defaultRules(), s.sink);
    e.health('d1', sample({ temperatureC: 61 }), 0);
    e.health('d1', sample({ temperatureC: 58 }), 1);
    e.health('d1', sample({ temperatureC: 61 }), 2);
    expect(s.log).toEqual(['open d1 overheat: temperatureC 61 > 60']);
    e.health('d1', sample({ temperatureC: 55 }), 3);
    expect(s.codes('d1')).toEqual([]);
  });

  it('rejects a clearValue on the wrong side of the threshold', () => {
    const r = faultRuleSet.safeParse({ rules: [{ code: 'hot', title: 'hot', severity: 'major', when: { type: 'metric', metric: 'temperatureC', op: '>', value: 60, clearValue: 65 } }] });
    expect(r.success).toBe(false);
    expect(r.error!.issues[0]!.path).toEqual(['rules', 0, 'when', 'clearValue']);
  });

  it('does not count a charging battery as low', () => {
    const s = recordingSink();
    const e = createRuleEngine(defaultRules(), s.sink);
    e.health('d1', sample({ battery: { level: 5, charging: true } }), 0);
    expect(s.codes('d1')).toEqual([]);
    e.health('d1', sample({ battery: { level: 5, charging: false } }), 0);
    expect(s.codes('d1')).toEqual(['battery_low']);
    e.health('d1', sample({ battery: { level: 5, charging: true } }), 0);
    expect(s.codes('d1')).toEqual([]);
  });

  it('auto-resolves when the condition clears, but only for rules that say so', () => {
    const s = recordingSink();
    const e = createRuleEngine(defaultRules(), s.sink);
    e.health('d1', sample({ printer: { status: 'paper_out' }, tamper: true }), 0);
    e.health('d1', sample({ printer: { status: 'ok' }, tamper: false }), 1);
    expect(s.log).toContain('clear d1 paper_out');
    expect(s.codes('d1')).toEqual(['tamper']); // tamper needs a person
  });

  it('a sample that does not report a component changes nothing about it', () => {
    const s = recordingSink();
    const e = createRuleEngine(defaultRules(), s.sink);
    e.health('d1', sample({ printer: { status: 'paper_out' } }), 0);
    e.health('d1', { ts: 1, seq: 1 }, 1);
    expect(s.codes('d1')).toEqual(['paper_out']);
  });

  it('keeps devices apart', () => {
    const s = recordingSink();
    const e = createRuleEngine(defaultRules(), s.sink);
    e.health('a', sample({ printer: { status: 'paper_out' } }), 0);
    e.health('b', sample(), 0);
    expect(s.codes('a')).toEqual(['paper_out']);
    expect(s.codes('b')).toEqual([]);
  });

  it('card reader error rate: intermittent errors over a window', () => {
    const rules = faultRuleSet.parse({
      rules: [{ code: 'rate', title: 'rate', severity: 'warning', when: { type: 'cardReaderErrorRate', window: 4, minRatio: 0.5 } }],
    }).rules;
    const s = recordingSink();
    const e = createRuleEngine(rules, s.sink);
    const ok = sample();
    const err = sample({ cardReader: { msr: 'ok', icc: 'error', nfc: 'ok' } });
    for (const x of [err, ok, ok, ok]) e.health('d1', x, 0);
    expect(s.codes('d1')).toEqual([]); // 1 of 4
    e.health('d1', err, 0); // window: ok ok ok err → 1... then err ok ok err? (err shifted out)
    e.health('d1', err, 0); // ok ok err err → 2 of 4
    expect(s.codes('d1')).toEqual(['rate']);
    expect(s.log[0]).toBe('open d1 rate: 2 of the last 4 samples with a card reader error');
    e.health('d1', ok, 0); // ok err err ok → still 2
    expect(s.codes('d1')).toEqual(['rate']);
    e.health('d1', ok, 0); // err err ok ok → 2
    e.health('d1', ok, 0); // err ok ok ok → 1
    expect(s.codes('d1')).toEqual([]);
  });

  it('forgets a device moved to another instance: its error window starts empty', () => {
    const rules = faultRuleSet.parse({
      rules: [{ code: 'rate', title: 'rate', severity: 'warning', when: { type: 'cardReaderErrorRate', window: 4, minRatio: 0.5 } }],
    }).rules;
    const s = recordingSink();
    const e = createRuleEngine(rules, s.sink);
    const err = sample({ cardReader: { msr: 'ok', icc: 'error', nfc: 'ok' } });
    e.health('d1', err, 0); // 1 of 4
    e.forget('d1');
    e.health('d1', err, 0); // 1 of 4 again, not 2
    expect(s.codes('d1')).toEqual([]);
    e.health('d1', err, 0);
    expect(s.codes('d1')).toEqual(['rate']);
  });

  it('compares any metric with any operator; disabled rules do nothing', () => {
    const rules = faultRuleSet.parse({
      rules: [
        { code: 'weak_signal', title: 'weak', severity: 'info', when: { type: 'metric', metric: 'signal.rssi', op: '<=', value: -90 } },
        { code: 'low_mem', title: 'mem', severity: 'info', enabled: false, when: { type: 'metric', metric: 'memory.freeMb', op: '<', value: 10 } },
      ],
    }).rules;
    const s = recordingSink();
    const e = createRuleEngine(rules, s.sink);
    e.health('d1', sample({ signal: { type: 'cellular', rssi: -90 }, memory: { freeMb: 1 } }), 0);
    expect(s.codes('d1')).toEqual(['weak_signal']);
  });
});

describe('rule engine on events, alerts and presence', () => {
  it('a tamper event opens the tamper fault', () => {
    const s = recordingSink();
    const e = createRuleEngine(defaultRules(), s.sink);
    e.event('d1', event({ type: 'tamper', severity: 'critical', data: { source: 'switch' } }), 0);
    expect(s.codes('d1')).toEqual(['tamper']);
  });

  it('event rules match type, code and severity; active:false clears', () => {
    const rules = faultRuleSet.parse({
      rules: [{ code: 'pinpad', title: 'PIN pad', severity: 'major', when: { type: 'event', eventType: 'fault', code: 'pinpad_error', minSeverity: 'major' } }],
    }).rules;
    const s = recordingSink();
    const e = createRuleEngine(rules, s.sink);
    e.event('d1', event({ data: { code: 'other' }, severity: 'critical' }), 0);
    e.event('d1', event({ data: { code: 'pinpad_error' }, severity: 'warning' }), 0);
    expect(s.codes('d1')).toEqual([]);
    e.event('d1', event({ data: { code: 'pinpad_error', detail: 'no PIN pad' }, severity: 'major' }), 0);
    expect(s.log).toEqual(['open d1 pinpad: no PIN pad']);
    e.event('d1', event({ data: { code: 'pinpad_error', active: false }, severity: 'info' }), 0);
    expect(s.codes('d1')).toEqual([]);
  });

  it('alerts from other domains open their rule (relocated needs a person)', () => {
    const s = recordingSink();
    const e = createRuleEngine(defaultRules(), s.sink);
    e.alert('d1', 'relocated', true, '3.2 km from the merchant', 0);
    e.alert('d1', 'unknown_alert', true, 'x', 0);
    expect(s.codes('d1')).toEqual(['relocated']);
    e.alert('d1', 'relocated', false, '', 0);
    expect(s.codes('d1')).toEqual(['relocated']);
  });

  it('offline longer than the threshold opens a fault; coming back resolves it', () => {
    const rules = faultRuleSet.parse({ rules: [{ code: 'offline', title: 'offline', severity: 'major', when: { type: 'offline', minutes: 1 } }] }).rules;
    const s = recordingSink();
    const e = createRuleEngine(rules, s.sink);
    expect(e.sweepIntervalMs()).toBe(5000);
    e.presence('d1', false, 0);
    e.sweep(59_000);
    expect(s.codes('d1')).toEqual([]);
    e.sweep(61_000);
    e.sweep(62_000);
    expect(s.log).toEqual(['open d1 offline: offline since 1970-01-01T00:00:00.000Z']);
    e.presence('d1', true, 70_000);
    expect(s.codes('d1')).toEqual([]);
    e.sweep(200_000);
    expect(s.codes('d1')).toEqual([]);
  });

  it('a device that flaps does not restart its offline clock while still offline', () => {
    const rules = faultRuleSet.parse({ rules: [{ code: 'offline', title: 'offline', severity: 'major', when: { type: 'offline', minutes: 1 } }] }).rules;
    const s = recordingSink();
    const e = createRuleEngine(rules, s.sink);
    e.presence('d1', false, 0);
    e.presence('d1', false, 30_000);
    e.sweep(61_000);
    expect(s.codes('d1')).toEqual(['offline']);
  });

  it('new rules apply at once; no offline rule means no sweep', () => {
    const s = recordingSink();
    const e = createRuleEngine([], s.sink);
    expect(e.sweepIntervalMs()).toBeNull();
    e.health('d1', sample({ printer: { status: 'paper_out' } }), 0);
    expect(s.codes('d1')).toEqual([]);
    e.setRules(defaultRules());
    e.health('d1', sample({ printer: { status: 'paper_out' } }), 0);
    expect(s.codes('d1')).toEqual(['paper_out']);
    expect(e.rules().length).toBe(defaultRules().length);
  });
});

describe('rule engine cost', () => {
  it('evaluates a healthy sample without asking the sink to do anything', () => {
    let calls = 0;
    const sink: FaultSink = { openCodes: () => undefined, raise: () => void calls++, clear: () => void calls++ };
    const e = createRuleEngine(defaultRules() as FaultRule[], sink);
    const s = sample();
    for (let i = 0; i < 10_000; i++) e.health(`d${i % 100}`, s, i);
    expect(calls).toBe(0);
  });
});
