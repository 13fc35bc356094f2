// The simulated fleet with its simulated payment app: terminals bound by the simulator, payments
// with cash-out-like runs, figures in health, and the server's rules blocking the card.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runFleet, type FleetHandle } from '../../scripts/simulate/fleet.ts';
import { tempDir } from '../agent/helpers.ts';
import { eventually } from '../helpers/eventually.ts';
import { startTestServer, TEST_ADMIN_TOKEN, TEST_ENROLL_TOKEN, type TestServer } from '../helpers/testServer.ts';
import { activeMerchant, createUser } from './helpers.ts';

describe('simulated payments on a simulated fleet', () => {
  let t: TestServer;
  let fleet: FleetHandle | undefined;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(async () => {
    await fleet?.stop();
    await t?.stop();
  });

  it('binds the terminals, takes payments within the limits and gets a cash-out card blocked', async () => {
    const admin2 = await createUser(t, 'admin');
    const m = await activeMerchant(t, admin2, {
      policy: { currency: 'CNY', singleAmountLimitMinor: 50_000, dailyAmountLimitMinor: 100_000_000, relocationFixes: 100 },
    });
    fleet = await runFleet({
      server: t.url,
      devices: 3,
      enrollToken: TEST_ENROLL_TOKEN,
      adminToken: TEST_ADMIN_TOKEN,
      prefix: `PAY${process.pid}`,
      stateDir: tempDir(),
      faults: {},
      healthIntervalS: 1,
      bindMerchantId: m.id,
      payments: { pattern: 'cashout', meanIntervalS: 0.2, meanAmountMinor: 2_000, runChance: 0.3, runLength: 6, cards: 50 },
      backoff: { initialMs: 50, maxMs: 500, factor: 2 },
    });
    await fleet.ready;
    const terminals = await t.api<{ items: { deviceId: string; tid: string }[] }>('GET', `/v1/merchants/${m.id}/terminals`);
    expect(terminals.body.items.map((b) => b.tid).sort()).toEqual(['S0000001', 'S0000002', 'S0000003']);
    const blocked = await eventually(async () => {
      const l = await t.api<{ items: { source: string; reason: string }[] }>('GET', '/v1/card-blacklist');
      return l.body.items.find((i) => i.source === 'auto');
    }, { timeoutMs: 30_000 });
    expect(blocked.reason).toMatch(/payments with one card/);
    const id = terminals.body.items[0]!.deviceId;
    await eventually(async () => {
      const d = await t.api<{ health: { txn?: { count: number; currency: string } } | null }>('GET', `/v1/devices/${id}`);
      return (d.body.health?.txn?.count ?? 0) > 0 && d.body.health?.txn?.currency === 'CNY';
    }, { timeoutMs: 15_000 });
    // The agent kept every payment within the single limit: no breach alert.
    const alerts = await t.api<{ items: { code: string }[] }>('GET', '/v1/merchant-alerts');
    expect(alerts.body.items.map((a) => a.code)).not.toContain('txn_limit_breach');
  });
});
