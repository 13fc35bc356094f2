// Small pure modules: outbox, fault watch, fleet fault plan, garbage, summaries, progress bar.
import { describe, expect, it } from 'vitest';
import { healthSample, inboundSchemas, MAX_PAYLOAD_BYTES } from '../../schemas/wire.ts';
import { activeFaults, faultTransitions } from '../../agent/faultWatch.ts';
import { createOutbox } from '../../agent/outbox.ts';
import { seededRandom } from '../../agent/random.ts';
import { assignFaults, parseFaults } from '../../scripts/simulate/faults.ts';
import { makeGarbage } from '../../scripts/simulate/garbage.ts';
import { renderProgress } from '../../scripts/simulate/progress.ts';
import { emptySummary, formatSummary, mergeSummaries } from '../../scripts/simulate/summary.ts';

describe('outbox', () => {
  it('keeps order, drops the oldest events first and counts what it dropped', () => {
    const o = createOutbox(3);
    o.push({ kind: 'ack', payload: 'a1' });
    for (const p of ['e1', 'e2', 'e3']) o.push({ kind: 'event', payload: p });
    expect(o.drain().map((i) => i.payload)).toEqual(['a1', 'e2', 'e3']);
    expect(o.takeDropped()).toEqual({ event: 1 });
    expect(o.takeDropped()).toEqual({});
    for (const p of ['a1', 'a2', 'a3', 'a4']) o.push({ kind: 'ack', payload: p });
    expect(o.drain().map((i) => i.payload)).toEqual(['a2', 'a3', 'a4']);
    expect(o.takeDropped()).toEqual({ ack: 1 });
  });
});

describe('fault watch', () => {
  const base = healthSample.parse({
    ts: 1,
    seq: 0,
    battery: { level: 50, charging: false },
    printer: { status: 'ok' },
    cardReader: { msr: 'ok', icc: 'ok', nfc: 'ok' },
    temperatureC: 35,
  });
  it('raises faults on transitions only, and says when they clear', () => {
    const low = { ...base, battery: { level: 10, charging: false }, printer: { status: 'paper_out' as const } };
    const a = activeFaults(base);
    const b = activeFaults(low);
    expect(faultTransitions(a, b).map((f) => [f.code, f.active])).toEqual([
      ['battery_low', true],
      ['paper_out', true],
    ]);
    expect(faultTransitions(b, activeFaults(low))).toEqual([]);
    const charging = activeFaults({ ...low, battery: { level: 10, charging: true } });
    expect(faultTransitions(b, charging).map((f) => [f.code, f.active, f.severity])).toEqual([['battery_low', false, 'info']]);
  });
});

describe('fleet fault plan', () => {
  it('assigns exactly round(fraction·n) devices per fault, reproducibly', () => {
    const plan = assignFaults(1000, { battery: 0.05, tamper: 0.01, flap: 0.2 }, 7);
    const count = (f: string) => plan.filter((d) => d.includes(f as never)).length;
    expect([count('battery'), count('tamper'), count('flap'), count('paper')]).toEqual([50, 10, 200, 0]);
    expect(assignFaults(1000, { battery: 0.05, tamper: 0.01, flap: 0.2 }, 7)).toEqual(plan);
    expect(assignFaults(1000, { battery: 0.05 }, 8)).not.toEqual(assignFaults(1000, { battery: 0.05 }, 7));
  });

  it('parses --faults and explains bad input', () => {
    expect(parseFaults('battery=0.1, slow-acks=0.5')).toEqual({ battery: 0.1, 'slow-acks': 0.5 });
    expect(parseFaults('none')).toEqual({});
    expect(() => parseFaults('bogus=0.1')).toThrow(/unknown fault "bogus"/);
    expect(() => parseFaults('battery=2')).toThrow(/between 0 and 1/);
    expect(() => parseFaults('battery')).toThrow(/name=fraction/);
  });
});

describe('garbage payloads', () => {
  it('are each rejected by the server for the reason they claim', () => {
    const rnd = seededRandom(1);
    const seen = new Set<string>();
    for (let i = 0; i < 60; i++) {
      const g = makeGarbage(rnd, 1_700_000_000_000);
      seen.add(g.kind);
      if (g.kind === 'oversize') {
        expect(Buffer.byteLength(g.payload)).toBeGreaterThan(MAX_PAYLOAD_BYTES);
        expect(inboundSchemas.event.safeParse(JSON.parse(g.payload)).success).toBe(true);
      } else if (g.kind === 'bad_json') expect(() => JSON.parse(g.payload)).toThrow();
      else expect(inboundSchemas[g.topic as keyof typeof inboundSchemas].safeParse(JSON.parse(g.payload)).success).toBe(false);
    }
    expect(seen.size).toBe(3);
  });
});

describe('summary and progress', () => {
  it('adds up worker summaries', () => {
    const a = { ...emptySummary(), total: 2, enrolled: 2, connected: 1, failed: 0, messagesSent: { health: 3 }, acks: { lock: { succeeded: 1 } } };
    const b = { ...emptySummary(), total: 1, enrolled: 0, failed: 1, failures: { 'enroll: not_registered': 1 }, acks: { lock: { succeeded: 2, failed: 1 } } };
    const m = mergeSummaries([a, b]);
    expect(m).toMatchObject({ total: 3, enrolled: 2, connected: 1, failed: 1, messagesSent: { health: 3 }, acks: { lock: { succeeded: 3, failed: 1 } } });
    expect(formatSummary(m, 10)).toContain('enroll: not_registered=1');
  });

  it('draws a bar of enrolled and connected devices', () => {
    expect(renderProgress({ total: 10, enrolled: 5, connected: 2, failed: 0 })).toBe(
      `[${'#'.repeat(6)}${'+'.repeat(9)}${'.'.repeat(15)}] enrolled 5/10  connected 2  failed 0`,
    );
  });
});
