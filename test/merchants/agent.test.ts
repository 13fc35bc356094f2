// The real agent against the real server: binding tokens verified on the terminal, payments
// refused while unbound, locked, for another merchant or over the limits (offline too), data
// wiped on a re-binding, and an old token replayed to the terminal refused.
import { generateKeyPairSync, sign } from 'node:crypto';
import { and, eq, isNotNull } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Agent } from '../../agent/agent.ts';
import { ensureEnrolled } from '../../agent/enroll.ts';
import { createSimulatedHardware } from '../../agent/simulatedHardware.ts';
import { openStateStore, type StateStore } from '../../agent/stateStore.ts';
import { merchantBindings } from '../../schemas/tables/merchants.ts';
import { signBindingToken } from '../../schemas/binding.ts';
import { startConnectedAgent, tempDir } from '../agent/helpers.ts';
import { databaseKinds } from '../helpers/databases.ts';
import { uniqueSerial } from '../helpers/devices.ts';
import { eventually } from '../helpers/eventually.ts';
import { startTestServer, TEST_ENROLL_TOKEN, type TestServer } from '../helpers/testServer.ts';
import { activeMerchant, createUser, uniqueTid, type User } from './helpers.ts';

interface Cmd {
  id: string;
  type: string;
  state: string;
  error: { code: string } | null;
  result: Record<string, unknown> | null;
}

describe.each(databaseKinds())('terminal agent and the binding lock on %s', (database) => {
  let t: TestServer;
  let admin2: User;
  let agent: Agent;
  let store: StateStore;
  let deviceId: string;

  beforeAll(async () => {
    t = await startTestServer({ database });
    admin2 = await createUser(t, 'admin');
    const serial = uniqueSerial('AGT');
    expect((await t.api('POST', '/v1/devices', { serial, model: 'PAX-A920' })).status).toBe(201);
    store = openStateStore(tempDir());
    const { enrollment } = await ensureEnrolled(store, {
      server: t.url,
      serial,
      model: 'PAX-A920',
      fwVersion: '1.0.0',
      enrollToken: TEST_ENROLL_TOKEN,
    });
    deviceId = enrollment.deviceId;
    agent = await startConnectedAgent(
      { store, hardware: createSimulatedHardware({ seed: 7, rebootDelayMs: 10, selfTestDelayMs: 5 }), enrollment, healthIntervalS: 3600 },
      10_000,
    );
  });
  afterAll(async () => {
    await agent?.stop();
    await t?.stop();
  });

  const commands = async () => (await t.api<{ items: Cmd[] }>('GET', `/v1/devices/${deviceId}/commands?limit=100`)).body.items;
  const final = (id: string) =>
    eventually(async () => {
      const c = (await t.api<Cmd>('GET', `/v1/devices/${deviceId}/commands/${id}`)).body;
      return ['succeeded', 'failed', 'rejected', 'expired'].includes(c.state) ? c : null;
    });
  const lastOf = async (type: string) => (await commands()).find((c) => c.type === type)!;

  it('refuses payments while unbound', () => {
    expect(agent.payments.pay({ amountMinor: 100 })).toMatchObject({ approved: false, reason: 'unbound' });
  });

  it('takes the binding, then enforces the merchant, the lock and the limits (also offline)', async () => {
    const m = await activeMerchant(t, admin2, {
      policy: { currency: 'CNY', singleAmountLimitMinor: 10_000, dailyCountLimit: 3, dailyAmountLimitMinor: 20_000 },
    });
    const tid = uniqueTid();
    expect((await t.api('PUT', `/v1/devices/${deviceId}/binding`, { merchantId: m.id, tid })).status).toBe(200);
    const set = await final((await lastOf('binding.set')).id);
    expect(set).toMatchObject({ state: 'succeeded', result: { merchantId: m.id, tid, epoch: 1 } });

    expect(agent.payments.pay({ amountMinor: 5_000, currency: 'CNY' })).toMatchObject({ approved: true });
    expect(agent.payments.pay({ amountMinor: 10_001 })).toMatchObject({ approved: false, reason: 'single_limit' });
    expect(agent.payments.pay({ amountMinor: 100, merchantId: 'mer_someone_else' })).toMatchObject({
      approved: false,
      reason: 'wrong_merchant',
    });
    expect(agent.payments.pay({ amountMinor: 100, subMerchantId: 'stall-1' })).toMatchObject({
      approved: false,
      reason: 'unknown_sub_merchant',
    });
    expect(agent.payments.pay({ amountMinor: 100, currency: 'USD' })).toMatchObject({ approved: false, reason: 'currency' });

    // Health carries today's figures.
    agent.sampleHealth();
    await eventually(async () => {
      const d = await t.api<{ health: { txn?: { count: number; amountMinor: number; currency: string } } | null }>(
        'GET',
        `/v1/devices/${deviceId}`,
      );
      return d.body.health?.txn?.count === 1 && d.body.health.txn.amountMinor === 5_000 && d.body.health.txn.currency === 'CNY';
    });

    // Locked: connected and manageable, but no payments.
    await t.api('POST', `/v1/devices/${deviceId}/lock`, { note: 'inspection' });
    await final((await lastOf('lock')).id);
    expect(agent.payments.pay({ amountMinor: 100 })).toMatchObject({ approved: false, reason: 'locked' });
    // A bare unlock through the generic commands API cannot lift it.
    const bare = await t.api<Cmd>('POST', `/v1/devices/${deviceId}/commands`, { type: 'unlock' });
    expect(await final(bare.body.id)).toMatchObject({ state: 'rejected', error: { code: 'lock_managed' } });
    expect(agent.payments.pay({ amountMinor: 100 })).toMatchObject({ approved: false, reason: 'locked' });
    await t.api('POST', `/v1/devices/${deviceId}/unlock`, {});
    await final((await lastOf('unlock')).id);

    // Limits hold without the server.
    agent.dropLink();
    expect(agent.payments.pay({ amountMinor: 9_000 })).toMatchObject({ approved: true });
    expect(agent.payments.pay({ amountMinor: 9_000 })).toMatchObject({ approved: false, reason: 'daily_amount_limit' });
    expect(agent.payments.pay({ amountMinor: 1_000 })).toMatchObject({ approved: true });
    expect(agent.payments.pay({ amountMinor: 1 })).toMatchObject({ approved: false, reason: 'daily_count_limit' });
    await agent.waitConnected(10_000);
  });

  it('on an approved re-binding wipes the merchant data and takes the new merchant only', async () => {
    const next = await activeMerchant(t, admin2, {
      kind: 'marketplace',
      subMerchants: [
        { subId: 'stall-1', name: 'Dumplings' },
        { subId: 'stall-2', name: 'Tea' },
      ],
      policy: { currency: 'CNY' },
    });
    const filed = await t.api<{ id: string }>('POST', `/v1/devices/${deviceId}/rebind-requests`, {
      merchantId: next.id,
      tid: uniqueTid(),
      reason: 'moved to the food court',
    });
    expect(filed.status).toBe(201);
    expect((await t.api('POST', `/v1/rebind-requests/${filed.body.id}/approve`, undefined, { token: admin2.token })).status).toBe(200);
    const set = await final((await lastOf('binding.set')).id);
    expect(set).toMatchObject({ state: 'succeeded', result: { merchantId: next.id, epoch: 2, wiped: true } });
    const held = store.loadMerchant();
    expect(held.figures).toBeNull();
    expect(held.journal).toEqual([]);
    expect(agent.payments.pay({ amountMinor: 100 })).toMatchObject({ approved: false, reason: 'unknown_sub_merchant' });
    expect(agent.payments.pay({ amountMinor: 100, subMerchantId: 'stall-9' })).toMatchObject({
      approved: false,
      reason: 'unknown_sub_merchant',
    });
    expect(agent.payments.pay({ amountMinor: 100, subMerchantId: 'stall-2' })).toMatchObject({ approved: true });
  });

  it('refuses a replayed old token, a forged one and one for another terminal', async () => {
    const [old] = await t.server.parts.db
      .select()
      .from(merchantBindings)
      .where(and(eq(merchantBindings.deviceId, deviceId), isNotNull(merchantBindings.closedAt)));
    const send = async (token: string) => {
      const cmd = await t.server.parts.commands.create(deviceId, { type: 'binding.set', payload: { token }, createdBy: null });
      return final(cmd.id);
    };
    expect(await send(old!.token)).toMatchObject({ state: 'rejected', error: { code: 'stale_epoch' } });
    const forger = generateKeyPairSync('ed25519').privateKey;
    const claims = {
      v: 1 as const,
      deviceId,
      merchantId: old!.merchantId,
      mid: '123456789012345',
      tid: 'FORGED01',
      epoch: 99,
      iat: Date.now(),
      kind: 'single' as const,
    };
    expect(await send(signBindingToken(claims, (data) => sign(null, data, forger)))).toMatchObject({
      state: 'rejected',
      error: { code: 'bad_signature' },
    });
    const signer = t.server.parts.bindingKey.sign;
    expect(await send(signBindingToken({ ...claims, deviceId: 'dev_other' }, signer))).toMatchObject({
      state: 'rejected',
      error: { code: 'wrong_device' },
    });
    // Still bound to the new merchant.
    expect(store.loadMerchant().binding?.claims.epoch).toBe(2);
  });
});
