// Whole fleet connects at once (as fast as the generators allow); measures the connect rate and
// the broker's resident memory per connected device.
import type { BrokerUnderTest } from './broker.ts';
import type { LoadgenPool } from './pool.ts';
import { foreignCpu, treeRssBytes } from './procstat.ts';
import type { DeviceSpec } from './protocol.ts';
import { perSecond } from './stats.ts';
import { round, sleep } from './util.ts';

export interface ConnectResult {
  devices: number;
  connected: number;
  failed: number;
  seconds: number;
  perSec: number;
  /** Until every device also had its SUBACK and state PUBACK. */
  readySeconds: number | null;
  rssBeforeMb: number;
  rssAfterMb: number;
  rssPerDeviceKb: number;
  /** CPU used by processes outside the benchmark while connecting (shared machine). */
  otherCpuSeconds: number;
  errors: string[];
}

export interface ConnectOptions {
  /** In-flight CONNECTs per generator. */
  window: number;
  timeoutMs: number;
  /** Pause before reading RSS, so buffers allocated during the storm settle. */
  settleMs: number;
}

export async function connectPhase(pool: LoadgenPool, broker: BrokerUnderTest, devices: readonly DeviceSpec[], opts: ConnectOptions): Promise<ConnectResult> {
  await pool.assign(devices, '127.0.0.1', broker.mqttPort);
  await sleep(opts.settleMs);
  const rssBefore = treeRssBytes(broker.pid());
  const other = foreignCpu(() => [broker.pid(), ...pool.pids]);
  const started = Date.now();
  const reports = await pool.all(() => ({ t: 'connect', window: opts.window, timeoutMs: opts.timeoutMs }), opts.timeoutMs + 60_000);
  const connected = reports.reduce((n, r) => n + r.connected, 0);
  const lastConnack = Math.max(...reports.map((r) => r.lastConnackAt));
  const allReady = reports.every((r) => r.readyAt > 0);
  const ms = Math.max(1, lastConnack - started);
  const otherCpuSeconds = other();
  await sleep(opts.settleMs);
  const rssAfter = treeRssBytes(broker.pid());
  return {
    devices: devices.length,
    connected,
    failed: devices.length - connected,
    seconds: round(ms / 1000, 2),
    perSec: Math.round(perSecond(connected, ms)),
    readySeconds: allReady ? round((Math.max(...reports.map((r) => r.readyAt)) - started) / 1000, 2) : null,
    rssBeforeMb: round(rssBefore / 2 ** 20),
    rssAfterMb: round(rssAfter / 2 ** 20),
    rssPerDeviceKb: round((rssAfter - rssBefore) / 1024 / Math.max(1, connected)),
    otherCpuSeconds: round(otherCpuSeconds, 2),
    errors: reports.flatMap((r) => r.errors).slice(0, 10),
  };
}
