// A simulator worker process: runs its slice of the fleet and reports to the parent over IPC.
import { runFleet, type FleetHandle } from './fleet.ts';
import type { FromWorker, ToWorker } from './ipc.ts';

let fleet: FleetHandle | null = null;
let ticker: NodeJS.Timeout | null = null;
let stopping: Promise<void> | null = null;

const send = (m: FromWorker) =>
  new Promise<void>((resolve) => (process.connected ? process.send?.(m, () => resolve()) : resolve()));

function stop(): Promise<void> {
  stopping ??= (async () => {
    if (ticker) clearInterval(ticker);
    const summary = fleet ? await fleet.stop() : null;
    if (summary) await send({ type: 'summary', summary });
  })().finally(() => process.exit(0));
  return stopping;
}

// Ctrl-C reaches the whole process group; the parent decides when workers stop, so that every
// worker's summary is collected.
process.on('SIGINT', () => undefined);
process.on('SIGTERM', () => void stop());
// Parent gone: nobody to report to, but shut the agents down cleanly anyway.
process.on('disconnect', () => void stop());

process.on('message', (m: ToWorker) => {
  if (m.type === 'stop') {
    void stop();
    return;
  }
  runFleet(m.options).then(
    (f) => {
      fleet = f;
      ticker = setInterval(() => void send({ type: 'progress', progress: f.progress() }), 500);
      void f.ready.then(() => send({ type: 'ready' }));
    },
    async (err: unknown) => {
      await send({ type: 'error', message: (err as Error).message });
      process.exit(1);
    },
  );
});
