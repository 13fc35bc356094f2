// Baseline: plain aedes with no auth, no validation and no storage beyond its in-memory defaults.
// Whatever our server costs on top of this is the price of its processing.
// Forked by the orchestrator: argv = [port, host]; talks over IPC.
import { createServer } from 'node:net';
import { Aedes } from 'aedes';
import { lagWindow } from './lagWindow.ts';

const port = Number(process.argv[2]);
const host = process.argv[3] ?? '127.0.0.1';
if (!process.send) throw new Error('rawBroker must be forked with an IPC channel');

const broker = await Aedes.createBroker();
const server = createServer(broker.handle);
const lag = lagWindow();

server.listen({ port, host, backlog: 511 }, () => process.send?.({ t: 'ready', port }));

process.on('message', (msg: unknown) => {
  if (typeof msg === 'object' && msg !== null && 't' in msg && msg.t === 'stats') {
    process.send?.({ t: 'stats', lagP99Ms: lag.p99Ms(), clients: broker.connectedClients });
  }
});

let closing = false;
const shutdown = () => {
  if (closing) return;
  closing = true;
  lag.stop();
  server.close();
  broker.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 2000).unref();
};
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
// An orphaned baseline must not outlive the benchmark.
process.on('disconnect', shutdown);
