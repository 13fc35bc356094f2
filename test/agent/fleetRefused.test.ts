// The simulated fleet against the real server when terminals are refused after they enrolled
// (revoked by an operator): the progress bar keeps its width and the summary says why they failed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runFleet } from '../../scripts/simulate/fleet.ts';
import { renderProgress } from '../../scripts/simulate/progress.ts';
import { formatSummary } from '../../scripts/simulate/summary.ts';
import { eventually } from '../helpers/eventually.ts';
import { startTestServer, TEST_ADMIN_TOKEN, TEST_ENROLL_TOKEN, type TestServer } from '../helpers/testServer.ts';
import { silentLog, tempDir } from './helpers.ts';

const BAR = /^\[([#+.]{30})\] /;

describe('simulated fleet with refused terminals', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(async () => t?.stop());

  it('draws the bar and sums up a fleet in which revoked terminals are refused', async () => {
    const fleet = await runFleet({
      server: t.url,
      devices: 4,
      enrollToken: TEST_ENROLL_TOKEN,
      adminToken: TEST_ADMIN_TOKEN,
      prefix: 'REFUSED',
      stateDir: tempDir(),
      backoff: { initialMs: 20, maxMs: 200, factor: 2 },
      log: silentLog,
    });
    try {
      await fleet.ready;
      await eventually(() => fleet.progress().connected === 4, { timeoutMs: 15_000, what: 'the fleet connected' });
      for (const d of fleet.agents.slice(0, 2)) {
        expect((await t.api('POST', `/v1/devices/${d.deviceId}/revoke`, { reason: 'stolen' })).status).toBe(200);
      }
      const refused = await eventually(() => (fleet.progress().failed === 2 ? fleet.progress() : undefined), {
        timeoutMs: 15_000,
        what: 'two terminals refused',
      });
      // Both revoked terminals had enrolled: the counts add up to more than the fleet.
      expect(refused).toEqual({ total: 4, enrolled: 4, connected: 2, failed: 2 });
      expect(renderProgress(refused)).toMatch(BAR);
      expect(renderProgress(refused)).toBe(`[${'#'.repeat(15)}${'+'.repeat(15)}] enrolled 4/4  connected 2  failed 2`);
    } finally {
      const summary = await fleet.stop();
      expect(summary).toMatchObject({ total: 4, enrolled: 4, failed: 2 });
      expect(Object.values(summary.failures).reduce((a, b) => a + b, 0)).toBe(2);
      const text = formatSummary(summary, 3);
      expect(text).toContain('devices      4: enrolled 4, connected 2, failed 2');
      expect(text).toMatch(/failures {5}connect: (not authorized|bad user name or password)=2/);
    }
  });

  it('keeps the bar within its width for any counts', () => {
    for (const p of [
      { total: 10, enrolled: 10, connected: 8, failed: 6 },
      { total: 1, enrolled: 3, connected: 5, failed: 2 },
      { total: 0, enrolled: 0, connected: 0, failed: 0 },
      { total: 4, enrolled: 0, connected: 0, failed: 0 },
    ]) {
      expect(renderProgress(p), JSON.stringify(p)).toMatch(BAR);
    }
  });
});
