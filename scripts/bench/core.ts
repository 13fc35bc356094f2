// Scenario `core`: connect, ingest, fan-out and restart at fleet scale, ours against raw aedes.
import { baselineEntry, coreNotes, coreResult, coreRows, type BaselineEntry } from './coreReport.ts';
import { corePlan } from './corePlan.ts';
import { measurePosfleet, type PosfleetRun } from './corePosfleet.ts';
import { measureRaw } from './coreRaw.ts';
import { machineInfo } from './machine.ts';
import { generatorCount, LoadgenPool } from './pool.ts';
import { previousScenario } from './results.ts';
import type { BenchOptions, Scenario } from './scenario.ts';
import { serverEntry, serverExists } from './serverProc.ts';
import { errorText } from './util.ts';

/** With --skip-baseline, a previous baseline of the same size and mode still gives a ratio. */
async function reusableBaseline(opts: BenchOptions): Promise<BaselineEntry | null> {
  const prev = await previousScenario(opts.out, 'core');
  const base = prev?.baseline;
  if (!prev || typeof base !== 'object' || base === null) return null;
  if (prev.devices !== opts.devices || prev.mode !== (opts.quick ? 'quick' : 'full')) return null;
  const entry = base as BaselineEntry; // written by baselineEntry() of an earlier run
  return { ...entry, reusedFrom: entry.reusedFrom ?? entry.when };
}

export const core: Scenario = {
  name: 'core',
  description: 'connect rate, RSS per device, QoS1 ingest ladder, command fan-out, restart reconnect',
  async run(opts) {
    const machine = machineInfo();
    const plan = corePlan(opts.devices, opts.quick);
    const pool = LoadgenPool.start(generatorCount(opts.devices));
    opts.log(`core: ${opts.devices} devices over ${pool.size} load generators, ${opts.quick ? 'quick' : 'full'} mode, load average ${machine.loadAverageAtStart.join(' ')}`);
    let ours: PosfleetRun = { errors: [] };
    let base: BaselineEntry | null = null;
    try {
      if (serverExists()) {
        ours = await measurePosfleet(pool, plan, opts.log, opts.keepFiles).catch((err: unknown) => ({ errors: [errorText(err)] }));
      } else {
        ours.errors.push(`${serverEntry} does not exist yet`);
        opts.log(`posfleet: skipped, ${serverEntry} does not exist yet`);
      }
      if (opts.skipBaseline) {
        base = await reusableBaseline(opts);
        opts.log(base ? `raw aedes: reusing the baseline of ${base.reusedFrom}` : 'raw aedes: skipped');
      } else {
        base = baselineEntry(await measureRaw(pool, plan, opts.log, ours.rulesCost?.rate), new Date().toISOString(), machine.cpus);
      }
    } finally {
      await pool.stop();
    }
    return {
      result: coreResult(plan, opts.quick, pool.size, machine, ours, base),
      rows: coreRows(ours, base, opts.devices),
      notes: coreNotes(ours, base, machine.cpus),
    };
  },
};
