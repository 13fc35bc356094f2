// Cluster mode: kill -9 of one of two instances (PostgreSQL, shared Redis) with the fleet spread
// over both, commands for the victim's terminals created on the survivor just before and just
// after the kill. The measurement is the cluster scenario's (clusterKill.ts), run here on a
// cluster of its own: every one of those commands must reach succeeded once the survivor holds
// the whole fleet.
import { startCluster, type BenchCluster } from '../clusterFixture.ts';
import { clusterKill } from '../clusterKill.ts';
import { clusterConnect, clusterEnroll, sliceFleet } from '../clusterPhases.ts';
import { clusterPlan } from '../clusterPlan.ts';
import type { ChaosCase, ChaosCaseResult } from '../chaosCase.ts';
import { importSerials } from '../fleet.ts';
import { LoadgenPool } from '../pool.ts';
import { notCounted } from './killChecks.ts';
import { errorText } from '../util.ts';

const INSTANCES = 2;

export const killInstance: ChaosCase = {
  name: 'kill-instance',
  description: `cluster mode, ${INSTANCES} instances on PostgreSQL: kill -9 of one with commands for its terminals in flight`,
  async run(opts) {
    const devices = opts.quick ? Math.min(opts.devices, 600) : opts.devices;
    const plan = clusterPlan(devices, INSTANCES, opts.quick);
    const result: ChaosCaseResult = notCounted('kill-instance/cluster');
    const pool = LoadgenPool.start(plan.generators);
    let cluster: BenchCluster | undefined;
    try {
      cluster = await startCluster(INSTANCES, opts.log);
      const apis = cluster.instances.map((i) => i.api);
      await importSerials(apis[0]!, devices);
      const fleet = await clusterEnroll(apis, devices, cluster.enrollToken, plan.enrollConcurrency);
      const slices = sliceFleet(fleet.devices, plan.generators);
      const connect = await clusterConnect(pool, cluster, slices, plan);
      if (connect.connected < devices)
        throw new Error(`${devices - connect.connected} terminals did not connect: ${connect.errors.join('; ')}`);
      opts.log(`  ${devices} terminals connected over ${INSTANCES} instances: ${JSON.stringify(connect.perInstance)}`);
      const victim = INSTANCES - 1;
      const kill = await clusterKill(cluster, victim, slices.filter((_, g) => g % INSTANCES === victim).flat(), devices, plan, opts.log);
      result.commandsAccepted = kill.commands;
      result.commandsAcked = kill.commandsSucceeded;
      result.commandsLost = kill.commandsLost ?? kill.commands;
      result.recoverySeconds = kill.allOnlineSeconds ?? 0;
      result.figures = { devices, victimDevices: kill.victimDevices, counts: JSON.stringify(kill.counts ?? []) };
      if (kill.error) result.failures.push(kill.error);
      if (result.commandsLost > 0)
        result.failures.push(`${result.commandsLost} of ${kill.commands} commands around the kill did not succeed`);
    } catch (err) {
      result.failures.push(errorText(err));
    } finally {
      await pool.stop();
      await cluster?.close(opts.keepFiles || result.failures.length > 0, plan.shutdownGraceMs);
    }
    result.ok = result.failures.length === 0;
    for (const f of result.failures) opts.log(`  FAILED ${f}`);
    return [result];
  },
};
