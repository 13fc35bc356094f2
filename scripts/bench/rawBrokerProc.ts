// Orchestrator side of the raw aedes baseline process.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { terminate, track, type Ended } from './procs.ts';
import { withTimeout } from './util.ts';

const entry = fileURLToPath(new URL('./rawBroker.ts', import.meta.url));

interface Stats {
  lagP99Ms: number;
  clients: number;
}

function isMsg(v: unknown, t: string): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && 't' in v && v.t === t;
}

export class RawBrokerProcess {
  private constructor(
    readonly child: ChildProcess,
    readonly port: number,
  ) {}

  static async start(port: number, host = '127.0.0.1'): Promise<RawBrokerProcess> {
    // BENCH_RAW_IMPORT: a module the baseline imports too (cpuProfile.mjs), to profile both brokers alike.
    const extra = process.env.BENCH_RAW_IMPORT ? ['--import', process.env.BENCH_RAW_IMPORT] : [];
    const child = track(fork(entry, [String(port), host], { execArgv: ['--import', 'tsx', ...extra], detached: true, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
    child.on('error', () => {}); // a send racing its exit; the caller's promise reports it
    const ready = new Promise<void>((resolve, reject) => {
      child.on('message', (m: unknown) => isMsg(m, 'ready') && resolve());
      child.once('exit', (code) => reject(new Error(`raw aedes exited early (code ${code})`)));
    });
    await withTimeout(ready, 30_000, 'raw aedes start');
    return new RawBrokerProcess(child, port);
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  stats(): Promise<Stats> {
    const answer = new Promise<Stats>((resolve) => {
      const onMsg = (m: unknown) => {
        if (!isMsg(m, 'stats')) return;
        this.child.off('message', onMsg);
        resolve({ lagP99Ms: Number(m.lagP99Ms), clients: Number(m.clients) });
      };
      this.child.on('message', onMsg);
    });
    if (!this.child.connected) return Promise.reject(new Error('raw aedes is gone'));
    this.child.send({ t: 'stats' }, () => {});
    return withTimeout(answer, 10_000, 'raw aedes stats');
  }

  stop(): Promise<Ended> {
    return terminate(this.child, 5000);
  }
}
