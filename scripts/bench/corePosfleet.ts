// Core scenario against our server: enroll, connect, ingest ladder, fan-out, restart.
import { posfleetBroker } from './broker.ts';
import { connectPhase, type ConnectResult } from './connectPhase.ts';
import type { CorePlan } from './corePlan.ts';
import { fanoutPosfleet, fleetAcks, type FanoutResult } from './fanoutPhase.ts';
import { startPosfleet } from './fixture.ts';
import { enrollFleet, importSerials, type EnrolledFleet } from './fleet.ts';
import { ingestPhase, settleAfterLadder, type IngestResult } from './ingestPhase.ts';
import type { LoadgenPool } from './pool.ts';
import { profilesPhases, signalProfiler } from './profilerSignal.ts';
import { reconnectPhase, type ReconnectResult } from './reconnectPhase.ts';
import { rulesCostPhase, rulesCostRate, type RulesCostResult } from './rulesCostPhase.ts';
import { errorText, sleep } from './util.ts';

export interface PosfleetRun {
  startSeconds?: number;
  enroll?: Omit<EnrolledFleet, 'devices'>;
  connect?: ConnectResult;
  summaryAfterConnect?: { devices: number; online: number };
  ingest?: IngestResult;
  rulesCost?: RulesCostResult;
  fanout?: FanoutResult & { devicesSawCommand?: number };
  reconnect?: ReconnectResult;
  errors: string[];
}

export async function measurePosfleet(pool: LoadgenPool, plan: CorePlan, log: (l: string) => void, keepFiles: boolean): Promise<PosfleetRun> {
  const run: PosfleetRun = { errors: [] };
  log('posfleet: starting server');
  const fx = await startPosfleet(log);
  run.startSeconds = fx.startSeconds;
  const broker = posfleetBroker(() => fx.server(), fx.api, fx.settings.mqttPort);
  // In signal mode two profiles: the first rules-on round at the fixed rate, then the fan-out.
  const markProfile = profilesPhases() ? () => signalProfiler(fx.server().pid, log) : undefined;
  try {
    const imported = await importSerials(fx.api, plan.devices);
    log(`  imported ${imported.created} serials; enrolling ${plan.devices}…`);
    const fleet = await enrollFleet(fx.api, plan.devices, fx.settings.enrollToken, plan.enrollConcurrency);
    run.enroll = { seconds: fleet.seconds, perSec: fleet.perSec };
    log(`  enrolled ${fleet.devices.length} in ${fleet.seconds} s (${fleet.perSec}/s); connecting…`);

    run.connect = await connectPhase(pool, broker, fleet.devices, { window: plan.connectWindow, timeoutMs: plan.connectTimeoutMs, settleMs: plan.settleMs });
    log(`  connected ${run.connect.connected}/${plan.devices} in ${run.connect.seconds} s (${run.connect.perSec}/s), RSS +${run.connect.rssPerDeviceKb} KiB/device, other processes ${run.connect.otherCpuSeconds} CPU-s`);
    if (run.connect.failed > 0) throw new Error(`${run.connect.failed} devices did not connect: ${run.connect.errors.join('; ')}`);
    const summary = await fx.api.summary();
    run.summaryAfterConnect = { devices: summary.devices, online: summary.online };

    log('  ingest ladder…');
    await sleep(plan.quietMs);
    run.ingest = await ingestPhase(pool, broker, { rates: plan.rates, stepMs: plan.stepMs, drainMs: plan.drainMs, limits: plan.limits, retries: plan.retries, resolution: plan.resolution, log });

    await settleAfterLadder(broker, plan.quietMs);
    const costRate = rulesCostRate(run.ingest.msgsPerSec);
    log(`  fault rules on vs off at ${costRate} msg/s…`);
    run.rulesCost = await rulesCostPhase(pool, broker, fx.api, costRate, { rates: [costRate], stepMs: plan.stepMs, drainMs: plan.drainMs, limits: plan.limits, retries: 0, log }, plan.rulesCostPairs, markProfile);
    log(`  rules keep ${Math.round(run.rulesCost.throughputKept * 1000) / 10}% of rules-off throughput (${run.rulesCost.cpuUsPerMsgOn} vs ${run.rulesCost.cpuUsPerMsgOff} µs/msg)`);

    await settleAfterLadder(broker, plan.quietMs);
    log('  fan-out…');
    const before = await fleetAcks(pool);
    markProfile?.();
    const fanout = await fanoutPosfleet(fx.api, plan.devices, plan.fanoutTimeoutMs);
    markProfile?.();
    const after = await fleetAcks(pool);
    run.fanout = { ...fanout, devicesSawCommand: after.cmdsReceived - before.cmdsReceived };
    log(`  fan-out to ${fanout.devices}: ${fanout.allAckedMs === null ? `not complete (${fanout.error})` : `${fanout.allAckedMs} ms`} ${JSON.stringify(fanout.milestones)}`);
    if (fanout.error) run.errors.push(`fan-out: ${fanout.error}`);

    log('  restart with the fleet connected…');
    run.reconnect = await reconnectPhase({ current: fx.server, restart: fx.restart }, fx.api, plan.devices, plan.reconnectTimeoutMs, plan.shutdownGraceMs, pool.pids);
    log(`  all online after ${run.reconnect.allOnlineSeconds ?? '-'} s, server CPU ${run.reconnect.serverCpuSeconds} s${run.reconnect.error ? ` (${run.reconnect.error})` : ''}`);
    if (run.reconnect.error) {
      run.errors.push(`restart: ${run.reconnect.error}`);
      log(`  last server output:\n${fx.server().lastOutput()}`);
    }
  } catch (err) {
    run.errors.push(errorText(err));
    log(`  posfleet: ${errorText(err)}\n  last server output:\n${fx.server().lastOutput()}`);
  } finally {
    await pool.all(() => ({ t: 'close' }), 60_000).catch((err: unknown) => run.errors.push(`close: ${errorText(err)}`));
    await fx.close(keepFiles || run.errors.length > 0, plan.shutdownGraceMs);
    if (run.errors.length) log(`  server logs kept in ${fx.workDir}`);
  }
  return run;
}
