// Load-generator child: holds a slice of the simulated fleet and does what the orchestrator
// asks over IPC. Several of these run side by side so no process nears its descriptor limit.
import { SimDevice, newCounters } from './device.ts';
import { lagWindow } from './lagWindow.ts';
import { isEnvelope, type ConnectReport, type IngestReport, type Reply, type Request, type StatusReport } from './protocol.ts';
import { sleep, withTimeout } from './util.ts';

if (!process.send) throw new Error('loadgen must be forked with an IPC channel');

let devices: SimDevice[] = [];
const counters = newCounters();
const lag = lagWindow();

async function connectAll(window: number, timeoutMs: number): Promise<ConnectReport> {
  const deadline = Date.now() + timeoutMs;
  let next = 0;
  let connected = 0;
  let lastConnackAt = 0;
  // A window of in-flight CONNECTs: unbounded, thousands of SYNs overflow the listen backlog and
  // the kernel's 1 s / 3 s retransmits would be measured instead of the broker.
  await new Promise<void>((resolve) => {
    let inFlight = 0;
    const timer = setTimeout(resolve, timeoutMs);
    const launch = () => {
      while (inFlight < window && next < devices.length) {
        const device = devices[next++]!;
        inFlight++;
        void device.start().then((at) => {
          connected++;
          lastConnackAt = Math.max(lastConnackAt, at);
          inFlight--;
          if (connected === devices.length) {
            clearTimeout(timer);
            resolve();
          } else launch();
        });
      }
    };
    launch();
    if (devices.length === 0) resolve();
  });
  let readyAt = lastConnackAt;
  try {
    const readies = await withTimeout(Promise.all(devices.map((d) => d.ready())), Math.max(1, deadline - Date.now()), 'ready');
    readyAt = Math.max(readyAt, ...readies);
  } catch {
    readyAt = 0;
  }
  return { connected, failed: devices.length - connected, lastConnackAt, readyAt, errors: counters.errors.slice(0, 5) };
}

async function ingest(count: number, durationMs: number, drainMs: number): Promise<IngestReport> {
  const latenciesMs: number[] = [];
  let sent = 0;
  let acked = 0;
  let failed = 0;
  let cursor = 0;
  lag.resetMax();
  const start = performance.now();
  const publishOne = () => {
    const device = devices[cursor++ % devices.length]!;
    const t0 = performance.now();
    device.publishHealth((err) => {
      if (err) failed++;
      else {
        acked++;
        latenciesMs.push(Math.round((performance.now() - t0) * 100) / 100);
      }
    });
    sent++;
  };
  // Paced by elapsed time, so a tick that runs late sends the backlog at once: the generator
  // never silently lowers the rate, and its own lateness shows up as latency.
  await new Promise<void>((resolve) => {
    const tick = () => {
      const due = Math.min(count, Math.floor((count * (performance.now() - start)) / durationMs));
      while (sent < due) publishOne();
      if (sent >= count) {
        clearInterval(timer);
        resolve();
      }
    };
    const timer = setInterval(tick, 5);
    if (count <= 0 || devices.length === 0) {
      clearInterval(timer);
      resolve();
    }
  });
  const sendMs = performance.now() - start;
  const drainUntil = performance.now() + drainMs;
  for (let i = 0; i < 100_000 && acked + failed < sent && performance.now() < drainUntil; i++) await sleep(10);
  return { sent, acked, failed, latenciesMs, genLagMaxMs: lag.maxMsSince(), sendMs };
}

function status(): StatusReport {
  return {
    devices: devices.length,
    connected: devices.reduce((n, d) => n + (d.connected ? 1 : 0), 0),
    reconnects: counters.reconnects,
    cmdsReceived: counters.cmdsReceived,
    acksConfirmed: counters.acksConfirmed,
    errors: counters.errors.slice(0, 5),
  };
}

async function closeAll(): Promise<null> {
  const closing = devices;
  devices = [];
  await withTimeout(Promise.all(closing.map((d) => d.stop())), 15_000, 'close').catch(() => {});
  return null;
}

async function handle(req: Request): Promise<unknown> {
  switch (req.t) {
    case 'setup':
      await closeAll();
      Object.assign(counters, newCounters());
      devices = req.devices.map((spec) => new SimDevice(spec, req.target, counters));
      return null;
    case 'connect':
      return connectAll(req.window, req.timeoutMs);
    case 'ingest':
      return ingest(req.count, req.durationMs, req.drainMs);
    case 'status':
      return status();
    case 'close':
      return closeAll();
  }
}

process.on('message', (msg: unknown) => {
  if (!isEnvelope(msg)) return;
  handle(msg.req).then(
    (data) => process.send?.({ id: msg.id, ok: true, data } satisfies Reply),
    (err: unknown) => process.send?.({ id: msg.id, ok: false, error: err instanceof Error ? err.message : String(err) } satisfies Reply),
  );
});

// Without the orchestrator there is nobody to stop us: leave rather than linger.
process.on('disconnect', () => void closeAll().finally(() => process.exit(0)));
process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => {}); // the orchestrator decides; it will SIGTERM us
