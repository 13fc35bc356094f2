// A fleet split over K worker processes (one event loop cannot drive tens of thousands of TLS
// MQTT connections). Each worker gets a contiguous slice of serials; the fleet size is shared so
// fault assignment matches a single-process run.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { FleetOptions } from './fleet.ts';
import type { FromWorker, ToWorker, WorkerOptions } from './ipc.ts';
import { importSerials } from './register.ts';
import { serialOf } from './fleet.ts';
import { mergeProgress, mergeSummaries, emptySummary, type FleetProgress, type FleetSummary } from './summary.ts';

export interface FleetRun {
  ready: Promise<void>;
  progress(): FleetProgress;
  stop(): Promise<FleetSummary>;
}

const workerPath = fileURLToPath(new URL('./worker.ts', import.meta.url));

export async function runFleetProcs(o: FleetOptions, procs: number): Promise<FleetRun> {
  const prefix = o.prefix ?? 'SIM';
  const first = o.firstIndex ?? 1;
  const registration =
    o.adminToken && o.register !== false
      ? await importSerials({
          server: o.server,
          adminToken: o.adminToken,
          model: o.model ?? 'PAX-A920',
          serials: Array.from({ length: o.devices }, (_, k) => serialOf(prefix, first + k)),
          ...(o.ca ? { ca: o.ca } : {}),
        })
      : null;

  const k = Math.max(1, Math.min(procs, o.devices));
  const base = Math.floor(o.devices / k);
  const workers: Array<{ child: ChildProcess; progress: FleetProgress; summary: FleetSummary | null; ready: Promise<void> }> = [];
  let offset = 0;
  for (let i = 0; i < k; i++) {
    const count = base + (i < o.devices % k ? 1 : 0);
    const { log: _log, ca, ...rest } = o;
    const options: WorkerOptions = {
      ...rest,
      devices: count,
      firstIndex: first + offset,
      fleetSize: o.fleetSize ?? first - 1 + o.devices,
      register: false,
      ...(ca ? { ca: ca.toString() } : {}),
    };
    offset += count;
    // execArgv is inherited, so workers run under the same TypeScript loader (tsx) as the parent.
    const child = fork(workerPath, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const w = { child, progress: { total: count, enrolled: 0, connected: 0, failed: 0 }, summary: null as FleetSummary | null, ready: Promise.resolve() };
    w.ready = new Promise<void>((resolve) => {
      child.on('message', (m: FromWorker) => {
        if (m.type === 'progress') w.progress = m.progress;
        else if (m.type === 'ready') resolve();
        else if (m.type === 'summary') w.summary = m.summary;
        else if (m.type === 'error') process.stderr.write(`simulate: worker ${i}: ${m.message}\n`);
      });
      child.on('exit', () => resolve());
    });
    child.send({ type: 'start', options } satisfies ToWorker);
    workers.push(w);
  }

  return {
    ready: Promise.all(workers.map((w) => w.ready)).then(() => undefined),
    progress: () => mergeProgress(workers.map((w) => w.progress)),
    async stop() {
      const exited = workers.map(
        (w) =>
          new Promise<void>((resolve) => {
            if (w.child.exitCode !== null) return resolve();
            w.child.once('exit', () => resolve());
            w.child.send({ type: 'stop' } satisfies ToWorker);
          }),
      );
      await Promise.all(exited);
      const s = mergeSummaries(workers.map((w) => w.summary ?? { ...emptySummary(), ...w.progress, connected: 0 }));
      if (registration) s.registration = { created: registration.created, skipped: registration.skipped.length, errors: registration.errors.length };
      return s;
    },
  };
}
