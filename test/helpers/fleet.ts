// A simulated fleet of real agents (scripts/simulate/fleet.ts) against a test server, with the
// test defaults: the test tokens, its own state dir, health every 5 s, quick reconnects, silent.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { runFleet, type FleetHandle, type FleetOptions } from '../../scripts/simulate/fleet.ts';
import { eventually } from './eventually.ts';
import { TEST_ADMIN_TOKEN, TEST_ENROLL_TOKEN, type TestServer } from './testServer.ts';

export interface TestFleetOptions extends Omit<FleetOptions, 'server' | 'enrollToken' | 'adminToken' | 'stateDir'> {
  /** Resolve only once every agent is connected (default), or as soon as the fleet is ready. */
  awaitConnected?: boolean;
}

export interface TestFleet {
  fleet: FleetHandle;
  /** Agent `serial`'s state is in `<stateDir>/<serial>`; the caller removes it when done. */
  stateDir: string;
}

export async function startTestFleet(t: TestServer, opts: TestFleetOptions): Promise<TestFleet> {
  const { awaitConnected = true, ...fleetOptions } = opts;
  const stateDir = mkdtempSync(join(tmpdir(), 'posfleet-fleet-'));
  const fleet = await runFleet({
    server: t.url,
    enrollToken: TEST_ENROLL_TOKEN,
    adminToken: TEST_ADMIN_TOKEN,
    stateDir,
    healthIntervalS: 5,
    backoff: { initialMs: 100, maxMs: 1000, factor: 2 },
    log: pino({ level: 'silent' }),
    ...fleetOptions,
  });
  await fleet.ready;
  if (awaitConnected) await eventually(() => fleet.agents.every((a) => a.status === 'connected'), { timeoutMs: 30_000, what: 'every agent connected' });
  return { fleet, stateDir };
}
