// One real posfleet server process (`node --import tsx server/main.ts`), the way an operator runs
// it: configured only through the environment, ready when it prints its "posfleet ready" block,
// killed with SIGKILL to play a crash. It has its own DATA_DIR; the secrets every instance of one
// cluster must share (pepper, binding and vault keys, tokens) come from the caller.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { configSchema } from '../../../server/config.ts';
import { spawnChild, tail, type Child } from './children.ts';
import { freePort } from './freePort.ts';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const READY_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 20_000;
/** `npm start`'s exit code when a port is taken (server/startup.ts). */
const EXIT_PORT_IN_USE = 4;

/** A server setting and its value as the environment gives it. */
export type ServerEnv = Partial<Record<keyof typeof configSchema.shape, string>>;

export interface InstanceOptions {
  /** INSTANCE_ID, kept across restarts. */
  id: string;
  /** The instance's own DATA_DIR (created when missing). */
  dataDir: string;
  /** Every other setting (DATABASE_URL, REDIS_URL, QUEUE_PREFIX, shared secrets, CLUSTER...). */
  env: ServerEnv;
  /** Also pass INSTANCE_ID (cluster mode reads it; harmless otherwise). Default true. */
  passInstanceId?: boolean;
}

export interface ClusterInstance {
  readonly id: string;
  /** Of the current run: a restart may change them. */
  readonly httpUrl: string;
  readonly httpPort: number;
  readonly mqttPort: number;
  readonly pid: number;
  readonly env: Readonly<Record<string, string>>;
  isRunning(): boolean;
  /** A crash: SIGKILL, resolves once the process is gone. */
  kill9(): Promise<void>;
  /** SIGTERM and wait for the exit (SIGKILL after 20 s); its exit code. */
  stop(): Promise<number | null>;
  /**
   * Starts it again with the same environment, INSTANCE_ID and DATA_DIR (stopping it first with
   * SIGTERM if it runs). Tries the same ports first, as a restarted host would come back, and
   * takes new ones if those are taken meanwhile.
   */
  restart(): Promise<void>;
  /** stdout and stderr of every run of this instance, oldest first. */
  logs(): string;
}

/** The environment of a server child: this process's own (PATH, HOME...), none of its posfleet settings. */
function childEnv(settings: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  // The test runner's DATABASE_URL, QUEUE_PREFIX... must not leak into an instance.
  for (const key of Object.keys(configSchema.shape)) delete env[key];
  return { ...env, ...settings };
}

interface Run {
  child: Child;
  httpUrl: string;
  httpPort: number;
  mqttPort: number;
}

const READY = /^posfleet ready$/m;
const HTTP_LINE = /^\s+HTTP API\s+(https?:\/\/[^\s:]+:(\d+))/m;
const MQTT_LINE = /^\s+MQTT\s+mqtts?:\/\/[^\s:]+:(\d+)/m;

/** Parses the ports of the ready block; null until the whole block is there. */
export function parseReady(stdout: string): { httpUrl: string; httpPort: number; mqttPort: number } | null {
  const ready = READY.exec(stdout);
  if (!ready) return null;
  const block = stdout.slice(ready.index);
  const http = HTTP_LINE.exec(block);
  const mqtt = MQTT_LINE.exec(block);
  if (!http?.[1] || !http[2] || !mqtt?.[1]) return null;
  return { httpUrl: http[1], httpPort: Number(http[2]), mqttPort: Number(mqtt[1]) };
}

/**
 * With PUBLIC_HTTP_URL / PUBLIC_MQTT_URL set, the ready block names those (the balancer), not
 * what the instance listens on: then the harness picks free ports itself and knows them from
 * the environment it gave.
 */
async function withListenPorts(env: Record<string, string>): Promise<Record<string, string>> {
  const out = { ...env };
  if (env.PUBLIC_HTTP_URL && (out.HTTP_PORT ?? '0') === '0') out.HTTP_PORT = String(await freePort());
  if (env.PUBLIC_MQTT_URL && (out.MQTT_PORT ?? '0') === '0') out.MQTT_PORT = String(await freePort());
  return out;
}

async function launch(id: string, env: Record<string, string>): Promise<Run> {
  const child = spawnChild(process.execPath, ['--import', 'tsx', 'server/main.ts'], { cwd: ROOT, env: childEnv(env) });
  const printed = await new Promise<ReturnType<typeof parseReady>>((resolve) => {
    const timer = setTimeout(() => resolve(null), READY_TIMEOUT_MS);
    const check = (stdout: string) => {
      const parsed = parseReady(stdout);
      if (parsed) {
        clearTimeout(timer);
        resolve(parsed);
      }
    };
    child.onStdout(check);
    void child.exited.then(() => {
      clearTimeout(timer);
      resolve(parseReady(child.stdout()));
    });
  });
  if (printed && child.isRunning()) {
    const host = !env.HOST || env.HOST === '0.0.0.0' ? '127.0.0.1' : env.HOST;
    const httpPort = env.PUBLIC_HTTP_URL ? Number(env.HTTP_PORT) : printed.httpPort;
    return {
      child,
      httpPort,
      httpUrl: env.PUBLIC_HTTP_URL ? `http://${host}:${httpPort}` : printed.httpUrl,
      mqttPort: env.PUBLIC_MQTT_URL ? Number(env.MQTT_PORT) : printed.mqttPort,
    };
  }
  const why = child.isRunning() ? `not ready within ${READY_TIMEOUT_MS} ms` : `exited (code ${await child.exited}) before it was ready`;
  await child.stop('SIGKILL', 0);
  const output = `--- stderr (tail) ---\n${tail(child.stderr())}\n--- stdout (tail) ---\n${tail(child.stdout(), 15)}`;
  throw new InstanceStartError(`instance ${id} ${why}\n${output}`, await child.exited);
}

/** A start that failed; its exit code tells a taken port (4) from anything else. */
export class InstanceStartError extends Error {
  constructor(
    message: string,
    readonly exitCode: number | null,
  ) {
    super(message);
    this.name = 'InstanceStartError';
  }
}

const portTaken = (err: unknown) => err instanceof InstanceStartError && err.exitCode === EXIT_PORT_IN_USE;

/** Launches on ports of its own choice, choosing again when one was taken between the pick and the bind. */
async function launchOnFreePorts(id: string, env: Record<string, string>): Promise<Run> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await launch(id, await withListenPorts(env));
    } catch (err) {
      if (!portTaken(err) || attempt >= 3) throw err;
    }
  }
}

export async function startClusterInstance(opts: InstanceOptions): Promise<ClusterInstance> {
  mkdirSync(opts.dataDir, { recursive: true, mode: 0o700 });
  const env: Record<string, string> = { LOG_LEVEL: 'info', HOST: '127.0.0.1', HTTP_PORT: '0', MQTT_PORT: '0' };
  for (const [k, v] of Object.entries(opts.env)) if (v !== undefined) env[k] = v;
  env.DATA_DIR = opts.dataDir;
  if (opts.passInstanceId !== false) env.INSTANCE_ID = opts.id;

  const earlier: string[] = [];
  let run = await launchOnFreePorts(opts.id, env);

  return {
    id: opts.id,
    get httpUrl() {
      return run.httpUrl;
    },
    get httpPort() {
      return run.httpPort;
    },
    get mqttPort() {
      return run.mqttPort;
    },
    get pid() {
      return run.child.pid;
    },
    env,
    isRunning: () => run.child.isRunning(),
    async kill9() {
      await run.child.stop('SIGKILL', 0);
    },
    stop: () => run.child.stop('SIGTERM', STOP_GRACE_MS),
    async restart() {
      await run.child.stop('SIGTERM', STOP_GRACE_MS);
      earlier.push(run.child.output());
      const samePorts = { ...env, HTTP_PORT: String(run.httpPort), MQTT_PORT: String(run.mqttPort) };
      try {
        run = await launch(opts.id, samePorts);
      } catch (err) {
        if (!portTaken(err)) throw err;
        run = await launchOnFreePorts(opts.id, env);
      }
    },
    logs: () => [...earlier, run.child.output()].join('\n--- restart ---\n'),
  };
}
