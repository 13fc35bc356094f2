// Core scenario against raw aedes: the same load, measured the same way.
import { rawAedesBroker } from './broker.ts';
import { connectPhase, type ConnectResult } from './connectPhase.ts';
import type { CorePlan } from './corePlan.ts';
import { fanoutRaw, type FanoutResult } from './fanoutPhase.ts';
import { rawFleet } from './fleet.ts';
import { ingestPhase, settleAfterLadder, type IngestResult } from './ingestPhase.ts';
import type { LoadgenPool } from './pool.ts';
import { freePort } from './ports.ts';
import { RawBrokerProcess } from './rawBrokerProc.ts';
import { errorText, sleep } from './util.ts';

export interface RawRun {
  connect?: ConnectResult;
  ingest?: IngestResult;
  fanout?: FanoutResult;
  errors: string[];
}

export async function measureRaw(pool: LoadgenPool, plan: CorePlan, log: (l: string) => void): Promise<RawRun> {
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
    run.ingest = await ingestPhase(pool, broker, { rates: plan.rates, stepMs: plan.stepMs, drainMs: plan.drainMs, limits, retries: plan.retries, log });

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
