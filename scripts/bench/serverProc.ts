// The posfleet server under test, as a child process started the way an operator would
// (`tsx server/main.ts`), configured only through its environment.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { exited, terminate, track, type Ended } from './procs.ts';
import { processTree } from './procstat.ts';
import { repoRoot } from './paths.ts';
import { sleep, withTimeout } from './util.ts';

export interface ServerSettings {
  httpPort: number;
  mqttPort: number;
  dataDir: string;
  adminToken: string;
  enrollToken: string;
  queuePrefix: string;
  redisUrl: string;
  /** Further settings over the ones above (a cluster instance's CLUSTER, DATABASE_URL, shared secrets). */
  extraEnv?: Readonly<Record<string, string>>;
}

export const serverEntry = join(repoRoot, 'server', 'main.ts');
export const serverExists = (): boolean => existsSync(serverEntry);

function envFor(s: ServerSettings): NodeJS.ProcessEnv {
  return {
    ...process.env,
    HTTP_PORT: String(s.httpPort),
    MQTT_PORT: String(s.mqttPort),
    HOST: '127.0.0.1',
    DATA_DIR: s.dataDir,
    ADMIN_TOKEN: s.adminToken,
    ENROLL_TOKEN: s.enrollToken,
    REDIS_URL: s.redisUrl,
    QUEUE_PREFIX: s.queuePrefix,
    LOG_LEVEL: 'warn',
    // The per-device flood limit is a protection, not what is measured here.
    DEVICE_MAX_MSGS_PER_S: '1000',
    DEVICE_BURST: '1000',
    ...s.extraEnv,
    // e.g. BENCH_SERVER_NODE_OPTIONS="--cpu-prof --cpu-prof-dir=/tmp/prof" to profile the server alone.
    ...(process.env.BENCH_SERVER_NODE_OPTIONS ? { NODE_OPTIONS: process.env.BENCH_SERVER_NODE_OPTIONS } : {}),
  };
}

export class ServerProcess {
  readonly ready: Promise<number>;
  private readonly tail: string[] = [];

  private constructor(
    readonly child: ChildProcess,
    readonly logFile: string,
    readyTimeoutMs: number,
  ) {
    const log: WriteStream = createWriteStream(logFile, { flags: 'a' });
    const started = performance.now();
    let resolveReady: (ms: number) => void = () => {};
    const readyLine = new Promise<number>((resolve) => (resolveReady = resolve));
    const onLine = (line: string) => {
      this.tail.push(line);
      if (this.tail.length > 40) this.tail.shift();
      if (line.includes('posfleet ready')) resolveReady(performance.now() - started);
    };
    for (const stream of [child.stdout, child.stderr]) {
      let partial = '';
      stream?.on('data', (chunk: Buffer) => {
        log.write(chunk);
        const lines = (partial + chunk.toString('utf8')).split('\n');
        partial = lines.pop() ?? '';
        for (const line of lines) onLine(line);
      });
    }
    child.once('exit', () => log.end());
    const died = exited(child).then(({ code, signal }) => {
      throw new Error(`server exited before ready (code ${code}, signal ${signal}); last output:\n${this.lastOutput()}`);
    });
    this.ready = withTimeout(Promise.race([readyLine, died]), readyTimeoutMs, 'server start');
    this.ready.catch(() => {}); // observed by callers that care; avoid an unhandled rejection otherwise
  }

  static start(settings: ServerSettings, logFile: string, readyTimeoutMs = 120_000): ServerProcess {
    const child = spawn(join(repoRoot, 'node_modules', '.bin', 'tsx'), [serverEntry], {
      cwd: repoRoot,
      env: envFor(settings),
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true, // own process group: one kill reaches the tsx wrapper and the server
    });
    return new ServerProcess(track(child), logFile, readyTimeoutMs);
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  lastOutput(): string {
    return this.tail.slice(-20).join('\n');
  }

  /** SIGTERM to the server process itself, not the tsx wrapper: the wrapper's signal relay
   *  SIGKILLs a child that does not confirm the signal within ~60 ms, which a busy server can
   *  miss, and that would turn a graceful shutdown into a crash. */
  async stop(graceMs = 30_000): Promise<Ended> {
    // Breadth-first, so [1] is the wrapper's own child: the node process running main.ts.
    const leaf = processTree(this.pid)[1];
    if (leaf !== undefined) {
      const started = performance.now();
      try {
        process.kill(leaf, 'SIGTERM');
      } catch {
        // already gone
      }
      const done = await Promise.race([exited(this.child), sleep(graceMs).then(() => null)]);
      if (done) {
        const rest = await terminate(this.child, 1000);
        return { ...done, ms: performance.now() - started, forced: rest.forced };
      }
      const killed = await terminate(this.child, 0);
      return { ...killed, ms: performance.now() - started, forced: true };
    }
    return terminate(this.child, graceMs);
  }
}
