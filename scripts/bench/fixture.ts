// A posfleet server on a fresh data dir, free ports and its own queue prefix: what every
// scenario (core, and later rollout and keys) starts from. Torn down without leftovers.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Api } from './api.ts';
import { deleteRedisKeys } from './clusterStores.ts';
import { freePort } from './ports.ts';
import { ServerProcess, type ServerSettings } from './serverProc.ts';

export const redisUrl = 'redis://127.0.0.1:6379';

export interface PosfleetFixture {
  settings: ServerSettings;
  api: Api;
  server(): ServerProcess;
  /** Starts a new process on the same settings (same data dir and ports). */
  restart(): ServerProcess;
  workDir: string;
  startSeconds: number;
  close(keepFiles: boolean, graceMs: number): Promise<void>;
}

/** What a scenario may set over the defaults: a Redis or data dir of its own (the chaos cases), further settings. */
export type FixtureOverrides = Partial<Pick<ServerSettings, 'redisUrl' | 'dataDir' | 'extraEnv'>>;

export async function startPosfleet(log: (line: string) => void, overrides: FixtureOverrides = {}): Promise<PosfleetFixture> {
  const workDir = await mkdtemp(join(tmpdir(), 'posfleet-bench-'));
  const settings: ServerSettings = {
    httpPort: await freePort(),
    mqttPort: await freePort(),
    dataDir: join(workDir, 'data'),
    adminToken: `bench-admin-${randomBytes(18).toString('hex')}`,
    enrollToken: `bench-enroll-${randomBytes(12).toString('hex')}`,
    queuePrefix: `bench-${randomBytes(4).toString('hex')}`,
    redisUrl,
    ...overrides,
  };
  let starts = 0;
  const launch = () => ServerProcess.start(settings, join(workDir, `server-${++starts}.log`));
  let current = launch();
  const startSeconds = (await current.ready) / 1000;
  log(`  server up in ${startSeconds.toFixed(1)} s (http ${settings.httpPort}, mqtt ${settings.mqttPort}, logs in ${workDir})`);
  return {
    settings,
    api: new Api(`http://127.0.0.1:${settings.httpPort}`, settings.adminToken),
    server: () => current,
    restart: () => (current = launch()),
    workDir,
    startSeconds,
    close: async (keepFiles, graceMs) => {
      await current.stop(graceMs);
      // The server wraps its prefix in {} (a Redis Cluster hash tag): `prefix:*` alone matched none of its keys.
      await deleteRedisKeys(settings.redisUrl, settings.queuePrefix).catch((err: unknown) =>
        log(`  could not clean redis keys: ${String(err)}`),
      );
      if (!keepFiles) await rm(workDir, { recursive: true, force: true });
    },
  };
}
