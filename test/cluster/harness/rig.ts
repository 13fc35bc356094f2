// What the cluster scenario tests share: a cluster of real server processes behind HAProxy, API
// clients on each instance and on the balancer (the cluster's admin token), simulated fleets of
// real agents enrolled and connected through the balancer, and where each terminal is held (the
// cluster's terminal registry in Redis, the same hash the instances read).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import pino from 'pino';
import { runFleet, type FleetHandle, type FleetOptions } from '../../../scripts/simulate/fleet.ts';
import { createApiClient, type Api } from '../../helpers/apiClient.ts';
import { eventually } from '../../helpers/eventually.ts';
import { startCluster, type Cluster, type ClusterInstance, type ClusterOptions } from './instances.ts';

export interface RigFleetOptions extends Omit<FleetOptions, 'server' | 'enrollToken' | 'adminToken' | 'stateDir'> {
  /** Resolve once every agent is connected (default), or as soon as the fleet is ready. */
  awaitConnected?: boolean;
}

export interface RigFleet {
  fleet: FleetHandle;
  /** Agent `serial`'s state is in `<stateDir>/<serial>`. */
  stateDir: string;
  ids(): string[];
  /** The simulated terminal of `deviceId` (fails if this fleet has none). */
  sim(deviceId: string): FleetHandle['agents'][number];
  stop(): Promise<void>;
}

export interface ClusterRig {
  cluster: Cluster;
  /** The API through one instance, read at each request (a restart may change its port). */
  on(i: ClusterInstance): Api;
  /** The API through the balancer. */
  lb: Api;
  /** The first three instances, for the three-instance scenarios (fails with fewer). */
  three(): { a: ClusterInstance; b: ClusterInstance; c: ClusterInstance };
  /** A fleet enrolled through the balancer; its agents connect to PUBLIC_MQTT_URL (the balancer) unless `mqttUrl` says otherwise. */
  fleet(opts: RigFleetOptions): Promise<RigFleet>;
  /** terminal → instance id, from the cluster's registry. */
  holders(): Promise<Map<string, string>>;
  /** Resolves once each terminal of `ids` is registered as held by a living instance; returns the holders. */
  held(ids: string[], opts?: { timeoutMs?: number; by?: (instanceId: string) => boolean }): Promise<Map<string, string>>;
  stop(): Promise<void>;
}

export async function startRig(opts: ClusterOptions): Promise<ClusterRig> {
  const cluster = await startCluster(opts);
  const redis = new Redis(cluster.stores.redisUrl, { maxRetriesPerRequest: 1 });
  const fleets: RigFleet[] = [];
  const token = cluster.secrets.ADMIN_TOKEN;
  const on = (i: ClusterInstance) => createApiClient({ baseUrl: () => i.httpUrl, defaultToken: token });
  const lb = createApiClient({ baseUrl: () => cluster.httpUrl, defaultToken: token });
  // The key the servers use (server/app.ts: `{QUEUE_PREFIX}` hash tag, then `:terminals`).
  const registryKey = `{${cluster.stores.queuePrefix}}:terminals`;

  const holders = async () => new Map(Object.entries(await redis.hgetall(registryKey)));

  return {
    cluster,
    on,
    lb,
    holders,
    three() {
      const [a, b, c] = cluster.instances;
      if (!a || !b || !c) throw new Error('three instances expected');
      return { a, b, c };
    },
    async held(ids, o = {}) {
      const alive = new Set(cluster.instances.filter((i) => i.isRunning()).map((i) => i.id));
      const by = o.by ?? ((id: string) => alive.has(id));
      return eventually(
        async () => {
          const all = await holders();
          return ids.every((id) => {
            const h = all.get(id);
            return h !== undefined && by(h);
          })
            ? all
            : null;
        },
        { timeoutMs: o.timeoutMs ?? 20_000, stepMs: 200, what: `${ids.length} terminals held` },
      );
    },
    async fleet(o) {
      const { awaitConnected = true, ...fleetOptions } = o;
      const stateDir = mkdtempSync(join(tmpdir(), 'posfleet-cfleet-'));
      const fleet = await runFleet({
        server: cluster.httpUrl,
        enrollToken: cluster.secrets.ENROLL_TOKEN,
        adminToken: token,
        stateDir,
        healthIntervalS: 5,
        backoff: { initialMs: 100, maxMs: 1000, factor: 2 },
        log: pino({ level: 'silent' }),
        ...fleetOptions,
      });
      let stopped: Promise<void> | undefined;
      const handle: RigFleet = {
        fleet,
        stateDir,
        ids: () => fleet.agents.map((a) => a.deviceId ?? ''),
        sim(deviceId) {
          const found = fleet.agents.find((x) => x.deviceId === deviceId);
          if (!found) throw new Error(`no agent for ${deviceId}`);
          return found;
        },
        stop: () =>
          (stopped ??= fleet.stop().then(() => {
            rmSync(stateDir, { recursive: true, force: true });
          })),
      };
      fleets.push(handle);
      await fleet.ready;
      if (awaitConnected)
        await eventually(() => fleet.agents.every((a) => a.status === 'connected'), { timeoutMs: 30_000, what: 'every agent connected' });
      return handle;
    },
    async stop() {
      await Promise.allSettled(fleets.map((f) => f.stop()));
      // CLUSTER_TEST_LOGS=<dir> keeps every instance's output there, to read after a failure.
      const keep = process.env.CLUSTER_TEST_LOGS;
      if (keep) for (const i of cluster.instances) writeFileSync(join(keep, `${cluster.stores.queuePrefix}-${i.id}.log`), i.logs());
      redis.disconnect();
      await cluster.stop();
    },
  };
}

/** The instances of `cluster` other than `i`. */
export const othersThan = (cluster: Cluster, i: ClusterInstance) => cluster.instances.filter((x) => x !== i);

/** Some terminals of `ids` held by `instanceId`, at least `min` of them (fails otherwise). */
export function heldBy(holders: Map<string, string>, ids: string[], instanceId: string, min = 1): string[] {
  const out = ids.filter((id) => holders.get(id) === instanceId);
  if (out.length < min)
    throw new Error(`${instanceId} holds ${out.length} of the terminals, ${min} expected: ${JSON.stringify([...holders])}`);
  return out;
}
