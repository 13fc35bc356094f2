// The parent's side of stormProc.ts: forks it and asks it to start, count, cut and stop.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { BackoffOptions } from '../../agent/backoff.ts';
import type { StormCounts, StormCredential, StormTarget } from './stormClients.ts';

export type StormRequest =
  | { t: 'start'; target: StormTarget; clients: StormCredential[]; honest: number; backoff: BackoffOptions }
  | { t: 'counts' }
  | { t: 'cut' }
  | { t: 'stop' };

export type StormReply = { t: 'counts'; counts: StormCounts } | { t: 'done' } | { t: 'error'; error: string };

const entry = fileURLToPath(new URL('./stormProc.ts', import.meta.url));

export interface StormHandle {
  readonly child: ChildProcess;
  start(target: StormTarget, clients: StormCredential[], honest: number, backoff: BackoffOptions): Promise<StormCounts>;
  counts(): Promise<StormCounts>;
  /** Every client's socket destroyed at once, as a network cut would. */
  cut(): Promise<void>;
  /** Ends every client and the process. */
  stop(): Promise<void>;
}

/** `wrap` lets the bench register the child with its process tracking (procs.ts `track`). */
export function forkStorm(wrap: (c: ChildProcess) => ChildProcess = (c) => c): StormHandle {
  const child = wrap(fork(entry, [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
  let next = 1;
  const waiting = new Map<number, { resolve: (r: StormReply) => void; reject: (e: Error) => void }>();
  child.on('message', (m: { id: number; reply: StormReply }) => {
    waiting.get(m.id)?.resolve(m.reply);
    waiting.delete(m.id);
  });
  child.once('exit', (code, signal) => {
    for (const w of waiting.values()) w.reject(new Error(`storm process exited (code ${code}, signal ${signal})`));
    waiting.clear();
  });
  const ask = (req: StormRequest): Promise<StormReply> =>
    new Promise((resolve, reject) => {
      const id = next++;
      waiting.set(id, { resolve, reject });
      child.send({ id, req });
    });
  const counts = async (req: StormRequest): Promise<StormCounts> => {
    const r = await ask(req);
    if (r.t === 'counts') return r.counts;
    throw new Error(r.t === 'error' ? r.error : `unexpected storm reply ${r.t}`);
  };
  return {
    child,
    start: (target, clients, honest, backoff) => counts({ t: 'start', target, clients, honest, backoff }),
    counts: () => counts({ t: 'counts' }),
    cut: async () => void (await ask({ t: 'cut' })),
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const gone = new Promise<void>((ok) => child.once('exit', () => ok()));
      await ask({ t: 'stop' }).catch(() => {});
      await gone;
    },
  };
}
