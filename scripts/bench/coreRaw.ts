// Core scenario against raw aedes: the same load, measured the same way.
import { rawAedesBroker, type BrokerUnderTest } from './broker.ts';
import { connectPhase, type ConnectResult } from './connectPhase.ts';
import type { CorePlan } from './corePlan.ts';
import { fanoutRaw, type FanoutResult } from './fanoutPhase.ts';
import { rawFleet } from './fleet.ts';
import { LAG_WINDOW_QUIET_MS, ingestPhase, runStep, settleAfterLadder, type IngestOptions, type IngestResult } from './ingestPhase.ts';
import type { LoadgenPool } from './pool.ts';
import { freePort } from './ports.ts';
import { profilesRawPhases } from './profilerSignal.ts';
import { RawBrokerProcess } from './rawBrokerProc.ts';
import { errorText, round, sleep } from './util.ts';

/** Raw aedes at the fixed rate where ours was measured rules on/off: CPU per message and lag. */
export interface FixedRateRun {
  rate: number;
  cpuUsPerMsg: number;
  lagP99Ms: number | null;
  p99Ms: number;
}

export interface RawRun {
  connect?: ConnectResult;
  ingest?: IngestResult;
  atRate?: FixedRateRun;
  fanout?: FanoutResult;
  errors: string[];
}

export async function measureRaw(pool: LoadgenPool, plan: CorePlan, log: (l: string) => void, fixedRate?: number): Promise<RawRun> {
  const run: RawRun = { errors: [] };
  log('raw aedes: starting');
  const raw = await RawBrokerProcess.start(await freePort());
  const broker = rawAedesBroker(raw);
  try {
    const devices = rawFleet(plan.devices);
    run.connect = await connectPhase(pool, broker, devices, { window: plan.connectWindow, timeoutMs: plan.connectTimeoutMs, settleMs: plan.settleMs });
    log(`  connected ${run.connect.connected}/${plan.devices} in ${run.connect.seconds} s (${run.connect.perSec}/s), RSS +${run.connect.rssPerDeviceKb} KiB/device, other processes ${run.connect.otherCpuSeconds} CPU-s`);
    if (run.connect.failed > 0) throw new Error(`${run.connect.failed} devices did not connect: ${run.connect.errors.join('; ')}`);

    log('  ingest ladder…');
    await sleep(plan.quietMs);
    // Raw aedes keeps no count of what it accepted: PUBACKs are the only evidence.
    const limits = { ...plan.limits, requireServerCount: false };
    run.ingest = await ingestPhase(pool, broker, { rates: plan.rates, stepMs: plan.stepMs, drainMs: plan.drainMs, limits, retries: plan.retries, resolution: plan.resolution, log });

    // Profiled like ours' first rules-on round: the raw broker is forked without a wrapper process.
    const markProfile = profilesRawPhases() ? () => process.kill(raw.pid, 'SIGUSR2') : undefined;
    if (fixedRate) run.atRate = await fixedRatePhase(pool, broker, fixedRate, { rates: [fixedRate], stepMs: plan.stepMs, drainMs: plan.drainMs, limits, retries: 0, log }, markProfile);

    await settleAfterLadder(broker, plan.quietMs);
    log('  fan-out…');
    run.fanout = await fanoutRaw(raw.port, pool.spareSourceAddress, devices.map((d) => d.id), plan.fanoutTimeoutMs);
    log(`  fan-out to ${run.fanout.devices}: ${run.fanout.allAckedMs === null ? `not complete (${run.fanout.error})` : `${run.fanout.allAckedMs} ms`}`);
  } catch (err) {
    run.errors.push(errorText(err));
    log(`  raw aedes: ${errorText(err)}`);
  } finally {
    await pool.all(() => ({ t: 'close' }), 60_000).catch((err: unknown) => run.errors.push(`close: ${errorText(err)}`));
    await raw.stop();
  }
  return run;
}

const FIXED_RATE_ROUNDS = 2;

async function fixedRatePhase(pool: LoadgenPool, broker: BrokerUnderTest, rate: number, opts: IngestOptions, markFirstRound?: () => void): Promise<FixedRateRun> {
  const steps = [];
  for (let i = 0; i < FIXED_RATE_ROUNDS; i++) {
    await settleAfterLadder(broker, LAG_WINDOW_QUIET_MS); // the ladder ended overloaded
    if (i === 0) markFirstRound?.();
    steps.push(await runStep(pool, broker, rate, 0, opts));
    if (i === 0) markFirstRound?.();
  }
  const acked = steps.reduce((n, s) => n + s.acked, 0);
  const cpu = steps.reduce((n, s) => n + s.brokerCpuSeconds, 0);
  const lags = steps.flatMap((s) => (s.brokerLagP99Ms === null ? [] : [s.brokerLagP99Ms]));
  const result = {
    rate,
    cpuUsPerMsg: acked ? round((cpu * 1e6) / acked, 2) : Number.NaN,
    lagP99Ms: lags.length ? Math.max(...lags) : null,
    p99Ms: Math.max(...steps.map((s) => s.latency.p99Ms)),
  };
  opts.log(`  raw aedes at ${rate} msg/s: ${result.cpuUsPerMsg} µs/msg, lag p99 ${result.lagP99Ms ?? '-'} ms, p99 ${result.p99Ms} ms`);
  return result;
}
