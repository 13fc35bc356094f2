// Last-resort time limit on its own thread: it still fires when the main thread is stuck in a
// native call (as a crypto deadlock once left it), kills every child group and then us.
import { Worker } from 'node:worker_threads';

const source = `
const { parentPort, workerData } = require('node:worker_threads');
const { writeSync } = require('node:fs');
const groups = new Set();
parentPort.on('message', (m) => { if (m.add) groups.add(m.add); if (m.remove) groups.delete(m.remove); });
setTimeout(() => {
  writeSync(2, 'bench watchdog: ' + workerData.limitMs / 1000 + ' s limit reached, killing everything\\n');
  for (const g of groups) { try { process.kill(-g, 'SIGKILL'); } catch {} }
  process.kill(process.pid, 'SIGKILL');
}, workerData.limitMs);
`;

let worker: Worker | undefined;

export function startWatchdog(limitMs: number): void {
  worker = new Worker(source, { eval: true, workerData: { limitMs } });
  worker.unref();
}

export function watchGroup(pid: number | undefined, alive: boolean): void {
  if (pid !== undefined) worker?.postMessage(alive ? { add: pid } : { remove: pid });
}
