// k posfleet instances in cluster mode on this machine, each a real server process on free
// ports, over one fresh PostgreSQL database, one Redis prefix and the secrets every instance of
// a cluster must share. Each has a DATA_DIR of its own; SHARED_DIR (firmware images, log
// bundles) is one directory, as the volume every instance mounts would be.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Api } from './api.ts';
import { redisUrl } from './fixture.ts';
import { freePort } from './ports.ts';
import { exited } from './procs.ts';
import { createClusterStores, type ClusterStores } from './clusterStores.ts';
import { ServerProcess, type ServerSettings } from './serverProc.ts';

export interface BenchInstance {
  readonly index: number;
  /** INSTANCE_ID of the current process (a restart takes a new one, as a replaced host would). */
  id: string;
  readonly settings: ServerSettings;
  readonly api: Api;
  readonly mqttPort: number;
  process: ServerProcess;
  alive: boolean;
}

export interface BenchCluster {
  readonly instances: BenchInstance[];
  readonly stores: ClusterStores;
  readonly workDir: string;
  readonly adminToken: string;
  readonly enrollToken: string;
  /** Process-tree roots of the instances running now. */
  pids(): number[];
  alive(): BenchInstance[];
  /** A crash: SIGKILL to the instance's whole process group; resolves once it is gone. */
  kill9(index: number): Promise<void>;
  /** Starts the instance again on its ports under a new INSTANCE_ID. */
  replace(index: number): Promise<void>;
  /** One more server on the same stores and secrets, not in cluster mode: the single-instance figure. */
  startSingle(): Promise<{ process: ServerProcess; api: Api; mqttPort: number }>;
  stopAll(graceMs: number): Promise<void>;
  close(keepFiles: boolean, graceMs: number): Promise<void>;
}

export async function startCluster(k: number, log: (line: string) => void): Promise<BenchCluster> {
  const workDir = await mkdtemp(join(tmpdir(), 'posfleet-bench-cluster-'));
  const stores = await createClusterStores(redisUrl);
  const adminToken = `bench-admin-${randomBytes(18).toString('hex')}`;
  const enrollToken = `bench-enroll-${randomBytes(12).toString('hex')}`;
  const shared: Record<string, string> = {
    DATABASE_URL: stores.databaseUrl,
    SECRET_PEPPER: randomBytes(32).toString('hex'),
    BINDING_SIGNING_KEY: generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    KEY_VAULT_MASTER_KEY: randomBytes(32).toString('hex'),
    SHARED_DIR: join(workDir, 'shared'),
  };
  let starts = 0;
  const settingsFor = async (name: string, extraEnv: Record<string, string>): Promise<ServerSettings> => ({
    httpPort: await freePort(),
    mqttPort: await freePort(),
    dataDir: join(workDir, name),
    adminToken,
    enrollToken,
    queuePrefix: stores.queuePrefix,
    redisUrl,
    extraEnv: { ...shared, ...extraEnv },
  });
  const launch = (settings: ServerSettings, id: string) => ServerProcess.start(settings, join(workDir, `${id}-${++starts}.log`));

  const instances: BenchInstance[] = [];
  const startOne = async (index: number) => {
    const id = `b${index}`;
    const settings = await settingsFor(id, { CLUSTER: 'true', INSTANCE_ID: id });
    const proc = launch(settings, id);
    const ms = await proc.ready;
    instances[index] = {
      index,
      id,
      settings,
      api: new Api(`http://127.0.0.1:${settings.httpPort}`, adminToken),
      mqttPort: settings.mqttPort,
      process: proc,
      alive: true,
    };
    log(`  instance ${id} up in ${(ms / 1000).toFixed(1)} s (http ${settings.httpPort}, mqtt ${settings.mqttPort})`);
  };
  const singles: ServerProcess[] = [];
  const stopAll = async (graceMs: number) => {
    await Promise.all([...instances.filter((i) => i.alive).map((i) => i.process.stop(graceMs)), ...singles.map((s) => s.stop(graceMs))]);
    for (const i of instances) i.alive = false;
    singles.length = 0;
  };
  try {
    // The first alone migrates the fresh database; the others then start together.
    await startOne(0);
    await Promise.all(Array.from({ length: k - 1 }, (_, i) => startOne(i + 1)));
  } catch (err) {
    await stopAll(5000);
    await stores.drop().catch(() => undefined);
    throw err;
  }
  log(`  ${k} instances on database ${stores.databaseName}, prefix ${stores.queuePrefix}, logs in ${workDir}`);

  return {
    instances,
    stores,
    workDir,
    adminToken,
    enrollToken,
    pids: () => instances.filter((i) => i.alive).map((i) => i.process.pid),
    alive: () => instances.filter((i) => i.alive),
    async kill9(index) {
      const inst = instances[index]!;
      try {
        process.kill(-inst.process.pid, 'SIGKILL');
      } catch {
        // already gone
      }
      await exited(inst.process.child);
      inst.alive = false;
    },
    async replace(index) {
      const inst = instances[index]!;
      inst.id = `b${index}-r${starts}`;
      inst.settings.extraEnv = { ...inst.settings.extraEnv, INSTANCE_ID: inst.id };
      inst.process = launch(inst.settings, inst.id);
      await inst.process.ready;
      inst.alive = true;
    },
    async startSingle() {
      const settings = await settingsFor('single', {});
      const proc = launch(settings, 'single');
      singles.push(proc);
      await proc.ready;
      return { process: proc, api: new Api(`http://127.0.0.1:${settings.httpPort}`, adminToken), mqttPort: settings.mqttPort };
    },
    stopAll,
    async close(keepFiles, graceMs) {
      await stopAll(graceMs);
      await stores.drop().catch((err: unknown) => log(`  could not drop ${stores.databaseName}: ${String(err)}`));
      if (!keepFiles) await rm(workDir, { recursive: true, force: true });
    },
  };
}
