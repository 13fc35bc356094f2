// kill -9 of one instance with the fleet connected: commands for its terminals created on a
// survivor just before and just after the kill; then how long until every terminal is held by a
// survivor (their connected gauges add up to the fleet) and a survivor's fleet summary counts the
// whole fleet online, held past the moment the survivors notice the death; then whether every one
// of those commands still reaches succeeded.
import type { BenchCluster } from './clusterFixture.ts';
import type { ClusterPlan } from './clusterPlan.ts';
import type { ClusterRun } from './clusterReport.ts';
import { gauges } from './clusterPhases.ts';
import type { DeviceSpec } from './protocol.ts';
import { errorText, pollUntil, round } from './util.ts';

type KillResult = NonNullable<ClusterRun['kill']>;

const sum = (xs: readonly (number | null)[]): number => xs.reduce<number>((a, b) => a + (b ?? 0), 0);

export async function clusterKill(
  cluster: BenchCluster,
  victimIndex: number,
  victimDevices: readonly DeviceSpec[],
  devices: number,
  plan: ClusterPlan,
  log: (l: string) => void,
): Promise<KillResult> {
  const victim = cluster.instances[victimIndex]!;
  const survivors = cluster.instances.filter((i) => i.index !== victimIndex && i.alive);
  const api = survivors[0]!.api;
  const n = Math.min(plan.killCommands, Math.floor(victimDevices.length / 2));
  const ids = (from: number) => victimDevices.slice(from, from + n).map((d) => d.id);
  const result: KillResult = {
    victim: victim.id,
    victimDevices: victimDevices.length,
    allOnlineSeconds: null,
    commands: 0,
    commandsSucceeded: 0,
    commandsLost: null,
  };
  const batches: { batchId: string; total: number }[] = [];
  const send = async (from: number) => {
    const b = await api.sendCommand({ target: { deviceIds: ids(from) }, type: 'diag.run', payload: {} });
    batches.push(b);
    result.commands += b.total;
  };

  await send(0);
  await cluster.kill9(victimIndex);
  const t0 = performance.now();
  log(`  killed ${victim.id} (${victimDevices.length} terminals), ${n} commands just before`);
  try {
    await send(n);
  } catch (err) {
    result.error = `commands after the kill: ${errorText(err)}`;
  }

  const apis = survivors.map((s) => s.api);
  let firstAll: number | null = null;
  let lastSeen = { online: -1, connected: -1 };
  let lastLog = 0;
  try {
    await pollUntil(
      async () => {
        const g = await gauges(apis);
        lastSeen = { online: g.online[0] ?? -1, connected: sum(g.connected) };
        const now = performance.now();
        if (now - lastLog >= 10_000) {
          lastLog = now;
          log(`  ${round((now - t0) / 1000, 1)} s after the kill: connected ${lastSeen.connected}, online ${lastSeen.online}`);
        }
        if (lastSeen.connected === devices && lastSeen.online === devices) firstAll ??= now;
        else firstAll = null;
        return firstAll !== null && now - t0 >= plan.killConfirmMs ? true : undefined;
      },
      { everyMs: 250, timeoutMs: plan.killTimeoutMs, what: 'whole fleet online on the survivors' },
    );
    result.allOnlineSeconds = firstAll === null ? null : round((firstAll - t0) / 1000, 2);
  } catch (err) {
    result.error = [result.error, errorText(err)].filter(Boolean).join('; ');
  }
  result.lastSeen = lastSeen;
  log(
    `  all online on the survivors after ${result.allOnlineSeconds ?? '-'} s (last seen: online ${lastSeen.online}, connected ${lastSeen.connected})`,
  );

  // Every command of both batches must end succeeded; whatever has not within the bound is lost.
  let counts: Record<string, number>[] = [];
  await pollUntil(
    async () => {
      counts = await Promise.all(batches.map(async (b) => (await api.batch(b.batchId)).counts));
      return sum(counts.map((c) => c.succeeded ?? 0)) >= result.commands ? true : undefined;
    },
    { everyMs: 250, timeoutMs: plan.killCommandsTimeoutMs, what: 'kill commands succeeded' },
  ).catch(() => undefined);
  result.counts = counts;
  result.commandsSucceeded = sum(counts.map((c) => c.succeeded ?? 0));
  result.commandsLost = result.commands - result.commandsSucceeded;
  log(`  commands around the kill: ${result.commandsSucceeded}/${result.commands} succeeded ${JSON.stringify(counts)}`);
  return result;
}
