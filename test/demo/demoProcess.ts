// `npm run demo` as a child process, the way a newcomer starts it: its output captured, started
// until it reports its fleet (or exits), stopped with Ctrl-C (SIGINT).
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadDemoState, type DemoState } from '../../scripts/demo/ports.ts';
import { createApiClient, type Api } from '../helpers/apiClient.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const START_LIMIT_MS = 90_000;

export interface DemoRun {
  output(): string;
  state(): DemoState;
  api(): Api;
  stop(): Promise<number | null>;
}

/**
 * Environment of a demo child: the database of this engine, nothing of the test's own settings.
 * Its ports are any free ones (HTTP_PORT and MQTT_PORT set to 0) unless `ports: 'demo'` leaves
 * the choice to the demo (8080 and 1883, or what DATA_DIR remembers): demo files run in parallel,
 * and one of them holding 8080 to see it taken would otherwise race the others for it.
 */
export function demoEnv(dataDir: string, databaseUrl: string | undefined, devices: number, opts: { ports?: 'free' | 'demo' } = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, DATA_DIR: dataDir, DEMO_DEVICES: String(devices), LOG_LEVEL: 'warn' };
  for (const k of [
    'DATABASE_URL',
    'HTTP_PORT',
    'MQTT_PORT',
    'PUBLIC_MQTT_URL',
    'PUBLIC_HTTP_URL',
    'QUEUE_PREFIX',
    'FIRMWARE_PUBLISHER_KEYS',
    'ADMIN_TOKEN',
  ])
    delete env[k];
  if (databaseUrl) env.DATABASE_URL = databaseUrl;
  if (opts.ports !== 'demo') Object.assign(env, { HTTP_PORT: '0', MQTT_PORT: '0' });
  return env;
}

function waitExit(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

export function demoStateIn(dataDir: string): DemoState {
  const s = loadDemoState(dataDir);
  if (!s) throw new Error(`no demo.json in ${dataDir}`);
  return s;
}

export async function startDemo(env: NodeJS.ProcessEnv, children: Set<ChildProcess>): Promise<DemoRun> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/demo.ts'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let out = '';
  child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (out += b.toString()));
  const dataDir = env.DATA_DIR!;

  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`demo did not report its fleet within ${START_LIMIT_MS} ms:\n${out}`)), START_LIMIT_MS);
    const check = () => {
      if (/^fleet (online|partly online):/m.test(out)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`demo exited (${code}) before reporting its fleet:\n${out}`));
    });
  });

  const state = () => demoStateIn(dataDir);
  return {
    output: () => out,
    state,
    api() {
      const token = readFileSync(join(dataDir, 'demo-operator.token'), 'utf8').trim();
      const httpUrl = state().httpUrl;
      return createApiClient({ baseUrl: () => httpUrl, defaultToken: token });
    },
    async stop() {
      child.kill('SIGINT');
      const code = await waitExit(child);
      children.delete(child);
      return code;
    },
  };
}

export async function killAll(children: Set<ChildProcess>): Promise<void> {
  for (const c of children) {
    c.kill('SIGKILL');
    await waitExit(c);
  }
  children.clear();
}

/** Holds a TCP port on 127.0.0.1 as another program would (Mosquitto on 1883); null if it is already held. */
export function holdPort(port: number): Promise<Server | null> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(null));
    s.listen(port, '127.0.0.1', () => resolve(s));
  });
}

export const release = (s: Server | null) => new Promise<void>((resolve) => (s ? s.close(() => resolve()) : resolve()));
