// The terminals of a chaos case: registered, enrolled and connected through load generators, as
// the core scenario does, and their counters read back (commands received, acks confirmed).
import type { PosfleetFixture } from '../fixture.ts';
import { enrollFleet, importSerials } from '../fleet.ts';
import { generatorCount, LoadgenPool } from '../pool.ts';
import type { DeviceSpec, StatusReport } from '../protocol.ts';

export interface ChaosFleet {
  pool: LoadgenPool;
  devices: DeviceSpec[];
  /** The generators' counters added up. */
  status(): Promise<StatusReport>;
  close(): Promise<void>;
}

export async function connectFleet(fx: PosfleetFixture, count: number, log: (line: string) => void): Promise<ChaosFleet> {
  await importSerials(fx.api, count);
  const fleet = await enrollFleet(fx.api, count, fx.settings.enrollToken, 32);
  const pool = LoadgenPool.start(generatorCount(count));
  try {
    await pool.assign(fleet.devices, '127.0.0.1', fx.settings.mqttPort);
    const reports = await pool.all(() => ({ t: 'connect', window: 100, timeoutMs: 60_000 }), 120_000);
    const connected = reports.reduce((n, r) => n + r.connected, 0);
    if (connected !== count || reports.some((r) => r.readyAt === 0)) {
      throw new Error(
        `${connected}/${count} terminals connected and ready: ${reports
          .flatMap((r) => r.errors)
          .slice(0, 3)
          .join('; ')}`,
      );
    }
  } catch (err) {
    await pool.stop();
    throw err;
  }
  log(`  ${count} terminals enrolled in ${fleet.seconds} s and connected`);
  return {
    pool,
    devices: fleet.devices,
    async status() {
      const all = await pool.all(() => ({ t: 'status' }), 30_000);
      const sum = (pick: (s: StatusReport) => number) => all.reduce((n, s) => n + pick(s), 0);
      return {
        devices: sum((s) => s.devices),
        connected: sum((s) => s.connected),
        reconnects: sum((s) => s.reconnects),
        cmdsReceived: sum((s) => s.cmdsReceived),
        acksConfirmed: sum((s) => s.acksConfirmed),
        errors: all.flatMap((s) => s.errors).slice(0, 5),
      };
    },
    async close() {
      await pool.all(() => ({ t: 'close' }), 60_000).catch(() => undefined);
      await pool.stop();
    },
  };
}

/** Runs `body` with the fleet connected; the fleet is closed whatever happens. */
export async function withFleet<T>(
  fx: PosfleetFixture,
  count: number,
  log: (line: string) => void,
  body: (fleet: ChaosFleet) => Promise<T>,
): Promise<T> {
  const fleet = await connectFleet(fx, count, log);
  try {
    return await body(fleet);
  } finally {
    await fleet.close();
  }
}
