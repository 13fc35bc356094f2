// A test cluster: N real server processes over one PostgreSQL database and one Redis prefix of
// their own, with a real HAProxy in front, as an operator would deploy it. Terminals and API
// clients go through the balancer (`mqttUrl`, `httpUrl`, also given to the instances as
// PUBLIC_MQTT_URL / PUBLIC_HTTP_URL); a test reaches one instance directly through `instances`.
//
//   const cluster = await startCluster({ n: 2, env: { CLUSTER: 'true' } });
//   try { ... } finally { await cluster.stop(); }
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startHaproxy, type Backend, type Haproxy } from './haproxy.ts';
import { startClusterInstance, type ClusterInstance, type ServerEnv } from './instance.ts';
import { createClusterStores, type ClusterStores } from './stores.ts';

export { startClusterInstance, parseReady, type ClusterInstance, type InstanceOptions, type ServerEnv } from './instance.ts';

/** What every instance of one cluster must hold the same, or each would sign, hash and seal differently. */
export interface ClusterSecrets {
  ADMIN_TOKEN: string;
  ENROLL_TOKEN: string;
  SECRET_PEPPER: string;
  BINDING_SIGNING_KEY: string;
  KEY_VAULT_MASTER_KEY: string;
}

export function clusterSecrets(): ClusterSecrets {
  return {
    ADMIN_TOKEN: `pf_cluster-admin-${randomBytes(16).toString('hex')}`,
    ENROLL_TOKEN: `cluster-enroll-${randomBytes(12).toString('hex')}`,
    SECRET_PEPPER: randomBytes(32).toString('hex'),
    BINDING_SIGNING_KEY: generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    KEY_VAULT_MASTER_KEY: randomBytes(32).toString('hex'),
  };
}

export interface ClusterOptions {
  n: number;
  /**
   * Settings of every instance, over the harness's own (stores, secrets, public URLs, ports 0).
   * CLUSTER is passed only when given here (`{ CLUSTER: 'true' }`).
   */
  env?: ServerEnv;
  /** Settings of one instance (0-based), over `env`. */
  envFor?: (index: number) => ServerEnv;
  balance?: 'roundrobin' | 'leastconn';
  /**
   * Start every instance at once (default): migrations and the first-admin bootstrap run under
   * PostgreSQL advisory locks, so a first instance started alone only costs time. `false` starts
   * the first alone, then the others together.
   */
  together?: boolean;
}

export interface Cluster {
  /** In start order; `addInstance` appends. */
  readonly instances: ClusterInstance[];
  readonly balancer: Haproxy;
  /** The balancer's addresses: where terminals and API clients go. */
  readonly mqttUrl: string;
  readonly httpUrl: string;
  readonly mqttPort: number;
  readonly secrets: ClusterSecrets;
  readonly stores: ClusterStores;
  instance(id: string): ClusterInstance;
  /** Starts one more instance (same settings) and puts it behind the balancer. */
  addInstance(env?: ServerEnv): Promise<ClusterInstance>;
  /** Restarts `id` and, if its ports changed, the balancer. */
  restartInstance(id: string): Promise<ClusterInstance>;
  /** Rewrites the balancer's server list from `instances` (killed ones stay: HAProxy sees them down). */
  syncBalancer(): Promise<void>;
  /** Stops every instance (SIGTERM), the balancer, drops the database and the Redis keys. Safe to call twice. */
  stop(): Promise<void>;
}

const backendOf = (i: ClusterInstance): Backend => ({ name: i.id, mqttPort: i.mqttPort, httpPort: i.httpPort });
const sameBackends = (a: Backend[], b: Backend[]) => JSON.stringify(a) === JSON.stringify(b);

export async function startCluster(opts: ClusterOptions): Promise<Cluster> {
  const dir = mkdtempSync(join(tmpdir(), 'posfleet-cluster-'));
  const secrets = clusterSecrets();
  const instances: ClusterInstance[] = [];
  let stores: ClusterStores | undefined;
  let balancer: Haproxy | undefined;
  let backends: Backend[] = [];
  let stopped: Promise<void> | undefined;

  async function stopAll(): Promise<void> {
    const results = await Promise.allSettled(instances.map((i) => i.stop()));
    const failures: unknown[] = results.flatMap((r) => (r.status === 'rejected' ? [r.reason] : []));
    // The stores go only once no instance writes to them any more.
    for (const step of [() => balancer?.stop(), () => stores?.drop()]) {
      try {
        await step();
      } catch (err) {
        failures.push(err);
      }
    }
    rmSync(dir, { recursive: true, force: true });
    if (failures.length) throw new AggregateError(failures, 'cluster stop failed');
  }

  try {
    stores = await createClusterStores();
    // The balancer first, empty, so the instances can be told its addresses.
    balancer = await startHaproxy({ backends: [], balance: opts.balance });
    const shared: ServerEnv = {
      DATABASE_URL: stores.databaseUrl,
      REDIS_URL: stores.redisUrl,
      QUEUE_PREFIX: stores.queuePrefix,
      PUBLIC_MQTT_URL: balancer.mqttUrl,
      PUBLIC_HTTP_URL: balancer.httpUrl,
      // Firmware images and log bundles, which every instance serves.
      SHARED_DIR: join(dir, 'shared'),
      ...secrets,
      ...opts.env,
    };
    const start = (index: number, extra: ServerEnv = {}) => {
      const id = `i${index + 1}`;
      return startClusterInstance({ id, dataDir: join(dir, id), env: { ...shared, ...opts.envFor?.(index), ...extra } });
    };
    const indexes = Array.from({ length: opts.n }, (_, i) => i);
    const first = opts.together === false ? indexes.slice(0, 1) : [];
    for (const i of first) instances.push(await start(i));
    const rest = await Promise.allSettled(indexes.slice(first.length).map((i) => start(i)));
    for (const r of rest) if (r.status === 'fulfilled') instances.push(r.value);
    const failed = rest.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;

    const ownBalancer = balancer;
    const ownStores = stores;
    const syncBalancer = async () => {
      const next = instances.map(backendOf);
      if (sameBackends(next, backends)) return;
      await ownBalancer.reload(next);
      backends = next;
    };
    await syncBalancer();

    const instance = (id: string) => {
      const found = instances.find((i) => i.id === id);
      if (!found) throw new Error(`no instance ${id} in this cluster (${instances.map((i) => i.id).join(', ')})`);
      return found;
    };

    return {
      instances,
      balancer: ownBalancer,
      mqttUrl: ownBalancer.mqttUrl,
      httpUrl: ownBalancer.httpUrl,
      mqttPort: ownBalancer.mqttPort,
      secrets,
      stores: ownStores,
      instance,
      async addInstance(env) {
        const added = await start(instances.length, env);
        instances.push(added);
        await syncBalancer();
        return added;
      },
      async restartInstance(id) {
        const i = instance(id);
        await i.restart();
        await syncBalancer();
        return i;
      },
      syncBalancer,
      stop: () => (stopped ??= stopAll()),
    };
  } catch (err) {
    // A cluster that did not come up leaves nothing running: the caller has nothing to stop.
    await stopAll().catch(() => undefined);
    throw err;
  }
}
