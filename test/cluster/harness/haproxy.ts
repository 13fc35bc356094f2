// A real HAProxy in front of the cluster's instances, as terminals would meet it: TCP (L4) for
// MQTT, and for HTTP too so enrollment answers and download links can name one address. It
// runs in the foreground (-db) as a child of the test; a reload restarts it on the same ports
// with the new server list, which drops open sessions (terminals reconnect, as after a
// balancer failover). Its admin socket tells which servers are up and how many sessions each
// took, which is how a test sees where a connection went.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnChild, tail, type Child } from './children.ts';
import { freePort } from './freePort.ts';
import { haproxyConfig, type Backend } from './haproxyConfig.ts';
import { adminCommand, answers, parseStat, type ServerStat } from './haproxyStats.ts';

export type { Backend } from './haproxyConfig.ts';
export type { ServerStat, ServerStatus } from './haproxyStats.ts';

export const HAPROXY_BIN = process.env.HAPROXY_BIN ?? '/usr/sbin/haproxy';

export interface HaproxyOptions {
  backends: Backend[];
  balance?: 'roundrobin' | 'leastconn';
  /** Above the MQTT keepalive (60 s by default), or HAProxy would cut idle terminals. Default 90 s. */
  idleTimeoutS?: number;
  /** Ports to bind; free ones are picked when absent. */
  mqttPort?: number;
  httpPort?: number;
  /** Sessions at once; HAProxy needs two descriptors each, within `ulimit -n`. Default 4000. */
  maxconn?: number;
}

export interface Haproxy {
  readonly mqttPort: number;
  readonly httpPort: number;
  readonly mqttUrl: string;
  readonly httpUrl: string;
  readonly pid: number;
  /** Restarts with `backends` (same ports). */
  reload(backends: Backend[]): Promise<void>;
  /** The servers of one proxy ('mqtt' by default), from the admin socket. */
  servers(proxy?: 'mqtt' | 'http'): Promise<ServerStat[]>;
  /** Resolves once `check` holds for the servers of the mqtt proxy; fails after `timeoutMs`. */
  waitServers(check: (servers: ServerStat[]) => boolean, timeoutMs?: number): Promise<ServerStat[]>;
  config(): string;
  logs(): string;
  stop(): Promise<void>;
}

const START_TIMEOUT_MS = 10_000;
const STOP_GRACE_MS = 3_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function startHaproxy(opts: HaproxyOptions): Promise<Haproxy> {
  if (!existsSync(HAPROXY_BIN)) throw new Error(`${HAPROXY_BIN} not found: apt-get install -y haproxy`);
  const dir = mkdtempSync(join(tmpdir(), 'posfleet-haproxy-'));
  const cfgPath = join(dir, 'haproxy.cfg');
  const socketPath = join(dir, 'admin.sock');
  const balance = opts.balance ?? 'roundrobin';
  const idleTimeoutS = opts.idleTimeoutS ?? 90;
  const maxconn = opts.maxconn ?? 4000;
  let mqttPort = opts.mqttPort ?? 0;
  let httpPort = opts.httpPort ?? 0;
  let child: Child | undefined;
  let cfg = '';
  let logs = '';

  /** Starts HAProxy on the ports; false when a port was taken (HAProxy exits at once). */
  async function launch(backends: Backend[]): Promise<boolean> {
    cfg = haproxyConfig({ backends, balance, idleTimeoutS, mqttPort, httpPort, socketPath, maxconn });
    writeFileSync(cfgPath, cfg);
    const started = spawnChild(HAPROXY_BIN, ['-f', cfgPath, '-db']);
    child = started;
    const until = Date.now() + START_TIMEOUT_MS;
    while (Date.now() < until) {
      if (!started.isRunning()) {
        await started.exited;
        logs += started.output();
        if (/cannot bind socket|Address already in use/i.test(started.output())) return false;
        throw new Error(`haproxy exited at start:\n${tail(started.output())}\nconfig:\n${cfg}`);
      }
      if (await answers(socketPath)) return true;
      await sleep(50);
    }
    await started.stop('SIGKILL', 0);
    throw new Error(`haproxy not accepting on ${mqttPort}/${httpPort} within ${START_TIMEOUT_MS} ms:\n${tail(started.output())}`);
  }

  async function stopChild(): Promise<void> {
    if (!child) return;
    // SIGTERM: hard stop, every session closed now (SIGUSR1 would wait for them to end).
    await child.stop('SIGTERM', STOP_GRACE_MS);
    logs += child.output();
    child = undefined;
    rmSync(socketPath, { force: true });
  }

  const picked = { mqtt: opts.mqttPort === undefined, http: opts.httpPort === undefined };
  for (let attempt = 0; ; attempt++) {
    if (picked.mqtt) mqttPort = await freePort();
    if (picked.http) httpPort = await freePort();
    if (await launch(opts.backends)) break;
    if (attempt >= 4 || (!picked.mqtt && !picked.http)) throw new Error(`haproxy could not bind ${mqttPort}/${httpPort}:\n${tail(logs)}`);
  }

  const servers = async (proxy: 'mqtt' | 'http' = 'mqtt') =>
    parseStat(await adminCommand(socketPath, 'show stat')).filter((s) => s.proxy === proxy);

  return {
    get mqttPort() {
      return mqttPort;
    },
    get httpPort() {
      return httpPort;
    },
    get mqttUrl() {
      return `mqtt://127.0.0.1:${mqttPort}`;
    },
    get httpUrl() {
      return `http://127.0.0.1:${httpPort}`;
    },
    get pid() {
      return child?.pid ?? -1;
    },
    async reload(backends) {
      await stopChild();
      // The ports were just released; a few tries cover a listener still closing.
      for (let attempt = 0; !(await launch(backends)); attempt++) {
        if (attempt >= 20) throw new Error(`haproxy could not bind ${mqttPort}/${httpPort} again:\n${tail(logs)}`);
        await sleep(100);
      }
    },
    servers,
    async waitServers(check, timeoutMs = 10_000) {
      const until = Date.now() + timeoutMs;
      let last: ServerStat[] = [];
      while (Date.now() < until) {
        last = await servers('mqtt');
        if (check(last)) return last;
        await sleep(100);
      }
      throw new Error(`haproxy servers not as expected within ${timeoutMs} ms: ${JSON.stringify(last)}`);
    },
    config: () => cfg,
    logs: () => logs + (child?.output() ?? ''),
    async stop() {
      await stopChild();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
