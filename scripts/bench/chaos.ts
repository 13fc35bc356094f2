// Scenario `chaos` (issue 16): failures injected into real processes under load, one case after
// another (chaosCases.ts), each checking the exact counts it must leave (chaosCase.ts). A row per
// case; latest.json gets `reliability`: cases tried, failures, commands lost, and each case.
import { notCounted } from './chaos/killChecks.ts';
import { chaosCases } from './chaosCases.ts';
import type { ChaosCaseResult } from './chaosCase.ts';
import { machineInfo } from './machine.ts';
import type { Scenario, TableRow } from './scenario.ts';
import { cell } from './table.ts';
import { errorText } from './util.ts';

function row(r: ChaosCaseResult): TableRow {
  return {
    metric: `chaos: ${r.name}`,
    ours: `${cell(r.commandsAccepted)}/${cell(r.commandsAcked)}/${cell(r.commandsLost)} · dup ${cell(r.duplicateInstalls)} · ${cell(r.recoverySeconds, ' s', 1)}`,
    target: 'lost 0 · dup 0',
    pass: r.ok,
  };
}

export const chaos: Scenario = {
  name: 'chaos',
  description: 'kill -9, Redis and PostgreSQL restarts, a full disk, under load; exact counts after each',
  maxMinutes: { quick: 25, full: 90 },
  async run(opts) {
    const results: ChaosCaseResult[] = [];
    const errors: string[] = [];
    // BENCH_CHAOS_CASES=kill-rollout,redis-restart runs only those (a name, or its start).
    const only = process.env.BENCH_CHAOS_CASES?.split(',').filter(Boolean);
    const cases = only ? chaosCases.filter((c) => only.some((o) => c.name.startsWith(o))) : chaosCases;
    for (const c of cases) {
      opts.log(`chaos: ${c.name}: ${c.description}`);
      try {
        results.push(...(await c.run(opts)));
      } catch (err) {
        // A case that cannot even start is a failed case, not the end of the run.
        results.push(notCounted(c.name, [errorText(err)]));
      }
    }
    for (const r of results) if (!r.ok) errors.push(...r.failures.map((f) => `${r.name}: ${f}`));
    const reliability = {
      casesTried: results.length,
      failures: results.filter((r) => !r.ok).length,
      commandsLost: results.reduce((s, r) => s + r.commandsLost, 0),
      duplicateInstalls: results.reduce((s, r) => s + r.duplicateInstalls, 0),
      cases: Object.fromEntries(results.map((r) => [r.name, r])),
    };
    const rows: TableRow[] = [
      ...results.map(row),
      {
        metric: 'chaos: cases failed',
        ours: `${reliability.failures} of ${reliability.casesTried}`,
        target: '0',
        pass: reliability.failures === 0,
      },
      { metric: 'chaos: commands lost', ours: cell(reliability.commandsLost), target: '0', pass: reliability.commandsLost === 0 },
    ];
    return {
      result: { devices: opts.devices, quick: opts.quick, machine: machineInfo(), reliability, errors },
      rows,
      notes: ['per case: commands accepted/acked/lost · terminals that installed twice · seconds from the fault until whole again'],
    };
  },
};
