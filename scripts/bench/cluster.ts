// Scenario `cluster`: k instances in cluster mode on this machine over one fresh PostgreSQL
// database and Redis, the fleet spread over them by URL. Connect (memory over every instance),
// one command to all sent on instance 0 and counted on instance 1, the ingest ladder over the
// cluster, kill -9 of one instance with commands in flight, a firmware rollout to the fleet, and
// the ingest CPU of one instance alone at the same per-instance load, for comparison.
import { generatePublisherKey } from '../sign-firmware.ts';
import { startCluster, type BenchCluster } from './clusterFixture.ts';
import { clusterKill } from './clusterKill.ts';
import {
  assignToInstances,
  clusterConnect,
  clusterEnroll,
  clusterFanout,
  clusterIngest,
  meanCpuPerMsg,
  singleIngest,
  sliceFleet,
} from './clusterPhases.ts';
import { clusterPlan, survivorLoad, type ClusterPlan } from './clusterPlan.ts';
import { clusterNotes, clusterResult, clusterRows, type ClusterRun } from './clusterReport.ts';
import { clusterRollout } from './clusterRollout.ts';
import { importSerials } from './fleet.ts';
import { machineInfo } from './machine.ts';
import { LoadgenPool } from './pool.ts';
import type { DeviceSpec } from './protocol.ts';
import type { BenchOptions, Scenario } from './scenario.ts';
import { errorText, sleep } from './util.ts';

interface Held {
  /** The enrolled fleet, one slice per generator, for the single-instance comparison. */
  slices: DeviceSpec[][];
}

async function measure(
  cluster: BenchCluster,
  pool: LoadgenPool,
  plan: ClusterPlan,
  publisher: ReturnType<typeof generatePublisherKey>,
  run: ClusterRun,
  held: Held,
  log: (l: string) => void,
): Promise<void> {
  const k = plan.instances;
  const [first, second] = [cluster.instances[0]!, cluster.instances[1]!];
  const imported = await importSerials(first.api, plan.devices);
  log(`  imported ${imported.created} serials; enrolling ${plan.devices}, serial i on instance i mod ${k}…`);
  const fleet = await clusterEnroll(
    cluster.instances.map((i) => i.api),
    plan.devices,
    cluster.enrollToken,
    plan.enrollConcurrency,
  );
  run.enroll = { seconds: fleet.seconds, perSec: fleet.perSec };
  log(`  enrolled in ${fleet.seconds} s (${fleet.perSec}/s); connecting over ${pool.size} generators…`);
  const slices = sliceFleet(fleet.devices, plan.generators);
  held.slices = slices;

  run.connect = await clusterConnect(pool, cluster, slices, plan);
  log(
    `  connected ${run.connect.connected}/${plan.devices} in ${run.connect.seconds} s, RSS ${run.connect.rssBeforeMb} → ${run.connect.rssAfterMb} MiB (+${run.connect.rssPerDeviceKb} KiB/terminal), per instance ${JSON.stringify(run.connect.perInstance)}, summaries ${JSON.stringify(run.connect.summaryOnline)}`,
  );
  if (run.connect.connected < plan.devices)
    throw new Error(`${plan.devices - run.connect.connected} terminals did not connect: ${run.connect.errors.join('; ')}`);

  await sleep(3000);
  log(`  fan-out: sent on ${first.id}, counted on ${second.id}…`);
  const fanout = await clusterFanout(first.api, second.api, plan.devices, plan.fanoutTimeoutMs);
  run.fanout = fanout;
  log(
    `  fan-out to ${fanout.devices}: ${fanout.allAckedMs === null ? `not complete (${fanout.error}) ${JSON.stringify(fanout.finalCounts)}` : `${fanout.allAckedMs} ms`}`,
  );
  if (fanout.error) run.errors.push(`fan-out: ${fanout.error}`);

  await sleep(6000);
  log('  ingest ladder over the cluster…');
  run.ingest = await clusterIngest(pool, { pids: () => cluster.pids(), apis: () => cluster.alive().map((i) => i.api) }, plan, log);
  await sleep(6000);

  const victimIndex = k - 1;
  const victimDevices: DeviceSpec[] = slices.filter((_, g) => g % k === victimIndex).flat();
  const load = survivorLoad(plan.devices, k);
  if (load.fits) {
    log(`  kill -9 of ${cluster.instances[victimIndex]!.id}…`);
    run.kill = await clusterKill(cluster, victimIndex, victimDevices, plan.devices, plan, log);
    if (run.kill.error) run.errors.push(`kill: ${run.kill.error}`);
  } else {
    const skipped = `each of ${k - 1} survivors would hold ${load.perSurvivor} terminals, over the ${20_000}-descriptor limit of a process; run with --instances ${k + 1}`;
    run.kill = {
      victim: cluster.instances[victimIndex]!.id,
      victimDevices: victimDevices.length,
      allOnlineSeconds: null,
      commands: 0,
      commandsSucceeded: 0,
      commandsLost: null,
      skipped,
    };
    log(`  kill skipped: ${skipped}`);
  }

  // The rollout runs on the whole cluster again: the dead instance replaced, the load
  // generators' terminals closed, the rollout's own terminals connected the same way.
  await pool.all(() => ({ t: 'close' }), 60_000);
  if (!cluster.instances[victimIndex]!.alive) {
    try {
      await cluster.replace(victimIndex);
      log(`  ${cluster.instances[victimIndex]!.id} started in place of the killed instance`);
    } catch (err) {
      // The rollout is still worth measuring on the survivors; the table's errors say why.
      run.errors.push(`replacing the killed instance: ${errorText(err)}`);
      log(`  the killed instance could not be replaced, rolling out over ${cluster.alive().length}: ${errorText(err)}`);
    }
  }
  log(`  rollout (${plan.imageBytes / 1024} KiB, 3 phases, thresholds on)…`);
  const rolloutSlices = slices.map((s) => s.map((d) => ({ id: d.id, password: d.password ?? '' })));
  run.rollout = await clusterRollout(cluster, rolloutSlices, publisher, pool.size, plan, log);
  if (run.rollout.error) run.errors.push(`rollout: ${run.rollout.error}`);
}

/** One instance alone (not in cluster mode) on the same database, with instance 0's share of the
 *  terminals, at the cluster's sustained rate ÷ k: the same per-instance load. */
async function measureSingle(
  cluster: BenchCluster,
  pool: LoadgenPool,
  plan: ClusterPlan,
  run: ClusterRun,
  fleet: DeviceSpec[][],
  log: (l: string) => void,
): Promise<void> {
  const rate = Math.round((run.ingest?.msgsPerSec ?? 0) / plan.instances);
  if (!run.ingest || rate <= 0) return;
  await cluster.stopAll(plan.shutdownGraceMs);
  const single = await cluster.startSingle();
  const own = fleet.map((s, g) => (g % plan.instances === 0 ? s : []));
  const devices = own.reduce((n, s) => n + s.length, 0);
  log(`  one instance alone: ${devices} terminals at ${rate} msg/s…`);
  await assignToInstances(pool, own, [single.mqttPort]);
  const reports = await pool.all(
    () => ({ t: 'connect', window: plan.connectWindow, timeoutMs: plan.connectTimeoutMs }),
    plan.connectTimeoutMs + 60_000,
  );
  const connected = reports.reduce((n, r) => n + r.connected, 0);
  if (connected < devices) throw new Error(`single instance: ${devices - connected} terminals did not connect`);
  await sleep(6000);
  const steps = await singleIngest(
    pool,
    { pids: () => [single.process.pid], apis: () => [single.api] },
    rate,
    plan.singleRounds,
    plan,
    log,
  );
  run.ingest.single = { devices, rate, cpuPerMsgUs: meanCpuPerMsg(steps), steps };
  await pool.all(() => ({ t: 'close' }), 60_000);
}

export const cluster: Scenario = {
  name: 'cluster',
  description: 'k instances in cluster mode: connect, RSS, fan-out across instances, ingest, kill -9 of one, rollout',
  maxMinutes: { quick: 5, full: 60 },
  async run(opts: BenchOptions) {
    const machine = machineInfo();
    const instances = opts.instances ?? (opts.quick ? 2 : 3);
    // Quick: 600 terminals whatever --devices says (its quick default of 300 is the core scenario's).
    const devices = opts.quick ? 600 : opts.devices;
    const plan = clusterPlan(devices, instances, opts.quick);
    const run: ClusterRun = { errors: [] };
    opts.log(
      `cluster: ${instances} instances × ${devices} terminals, ${plan.generators} generators, ${opts.quick ? 'quick' : 'full'}, load average ${machine.loadAverageAtStart.join(' ')}`,
    );
    const publisher = generatePublisherKey();
    // The instances inherit this environment: they trust the bench's publisher key.
    process.env.FIRMWARE_PUBLISHER_KEYS = publisher.publicKeyBase64;
    let fx: BenchCluster | undefined;
    const held: Held = { slices: [] };
    const pool = LoadgenPool.start(plan.generators);
    try {
      fx = await startCluster(instances, opts.log);
      await measure(fx, pool, plan, publisher, run, held, opts.log);
    } catch (err) {
      run.errors.push(errorText(err));
      opts.log(`  cluster: ${errorText(err)}`);
      for (const i of fx?.alive() ?? []) opts.log(`  last output of ${i.id}:\n${i.process.lastOutput()}`);
    }
    try {
      if (fx && run.ingest && held.slices.length) await measureSingle(fx, pool, plan, run, held.slices, opts.log);
    } catch (err) {
      run.errors.push(`single instance: ${errorText(err)}`);
    } finally {
      await pool.stop();
      await fx?.close(opts.keepFiles || run.errors.length > 0, plan.shutdownGraceMs);
      if (fx && run.errors.length) opts.log(`  logs kept in ${fx.workDir}`);
    }
    return { result: clusterResult(plan, opts.quick, run, machine), rows: clusterRows(plan, run), notes: clusterNotes(plan, run) };
  },
};
