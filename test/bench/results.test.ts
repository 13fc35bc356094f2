import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { mergeScenario, writeScenario } from '../../scripts/bench/results.ts';
import { parsePrometheus, metricSum, metricByLabel } from '../../scripts/bench/promText.ts';
import { renderTable } from '../../scripts/bench/table.ts';

describe('results merge', () => {
  it('replaces only its own scenario', () => {
    const merged = mergeScenario({ rollout: { a: 1 }, core: { old: true } }, 'core', { devices: 10 });
    expect(merged).toEqual({ rollout: { a: 1 }, core: { devices: 10 } });
  });
  it('starts afresh from anything that is not an object', () => {
    expect(mergeScenario(null, 'core', { x: 1 })).toEqual({ core: { x: 1 } });
    expect(mergeScenario([1, 2], 'keys', { x: 1 })).toEqual({ keys: { x: 1 } });
  });

  let dir = '';
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });
  it('read-merge-writes the file, surviving a corrupt one', async () => {
    dir = await mkdtemp(join(tmpdir(), 'bench-results-'));
    const file = join(dir, 'sub', 'latest.json');
    await writeScenario(file, 'rollout', { r: 1 });
    await writeScenario(file, 'core', { c: 2 });
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual({ rollout: { r: 1 }, core: { c: 2 } });
    await writeFile(file, '{ not json');
    await writeScenario(file, 'keys', { k: 3 });
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual({ keys: { k: 3 } });
  });
});

describe('prometheus text', () => {
  const text = [
    '# HELP posfleet_messages_in_total x',
    '# TYPE posfleet_messages_in_total counter',
    'posfleet_messages_in_total{kind="health"} 1234',
    'posfleet_messages_in_total{kind="state"} 10',
    'posfleet_messages_dropped_total{reason="bad_json"} 2',
    'posfleet_messages_dropped_total{reason="acl"} 3',
    'posfleet_connected_devices 10000',
    'posfleet_event_loop_lag_p99_seconds 0.0123',
  ].join('\n');
  const s = parsePrometheus(text);
  it('reads counters by label and gauges', () => {
    expect(metricSum(s, 'posfleet_messages_in_total', { kind: 'health' })).toBe(1234);
    expect(metricSum(s, 'posfleet_connected_devices')).toBe(10_000);
    expect(metricSum(s, 'posfleet_nope')).toBeUndefined();
    expect(metricByLabel(s, 'posfleet_messages_dropped_total', 'reason')).toEqual({ bad_json: 2, acl: 3 });
  });
});

describe('table', () => {
  it('aligns columns and marks pass/miss', () => {
    const out = renderTable('t', [
      { metric: 'a', ours: '1', baseline: '2', target: '<= 3', pass: true },
      { metric: 'longer metric', ours: '100', pass: false },
    ]);
    const lines = out.split('\n');
    expect(lines[3]).toMatch(/^a\s+1\s+2\s+<= 3\s+pass$/);
    expect(lines[4]).toMatch(/MISS$/);
  });
});
