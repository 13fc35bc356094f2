// Merchants, binding and terminal control through the real server: HTTP API, MQTT over TCP,
// BullMQ on the real Redis, on PGlite and (with DATABASE_URL) PostgreSQL.
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { splitBindingToken, bindingClaims } from '../../schemas/binding.ts';
import { databaseKinds } from '../helpers/databases.ts';
import { connectRefusal, registerAndEnroll } from '../helpers/devices.ts';
import { eventually } from '../helpers/eventually.ts';
import { startTestServer, type TestServer } from '../helpers/testServer.ts';
import { rawTerminal } from '../helpers/rawTerminal.ts';
import { activeMerchant, createUser, merchantBody, moduleOf, uniqueTid, type MerchantView, type User } from './helpers.ts';

interface ErrorBody {
  error: { code: string; details?: { path: string }[] };
}
interface LockView {
  locked: boolean;
  reasons: { reason: string }[];
  command: { id: string; state: string; queued: boolean } | null;
}

describe.each(databaseKinds())('merchant binding lock on %s', (database) => {
  let t: TestServer;
  let admin2: User;
  let admin3: User;
  let operator: User;
  const clients: MqttClient[] = [];

  beforeAll(async () => {
    t = await startTestServer({ database });
    admin2 = await createUser(t, 'admin');
    admin3 = await createUser(t, 'admin');
    operator = await createUser(t, 'operator');
  });
  afterAll(async () => {
    for (const c of clients) c.end(true);
    await t?.stop();
  });

  const bound = async (merchant: MerchantView, tid = uniqueTid()) => {
    const d = await registerAndEnroll(t);
    const res = await t.api('PUT', `/v1/devices/${d.deviceId}/binding`, { merchantId: merchant.id, tid });
    expect(res.status).toBe(200);
    return d;
  };

  it('validates merchants and reviews them by another admin', async () => {
    const bad = await t.api<ErrorBody>(
      'POST',
      '/v1/merchants',
      merchantBody({ mid: '12AB', mcc: '0000', timezone: 'Mars/Base', radiusM: 1, location: { lat: 95, lon: 0 } }),
    );
    expect(bad.status).toBe(400);
    expect(bad.body.error.details!.map((d) => d.path).sort()).toEqual(['location.lat', 'mcc', 'mid', 'radiusM', 'timezone']);
    const market = await t.api<ErrorBody>('POST', '/v1/merchants', merchantBody({ kind: 'marketplace' }));
    expect(market.status).toBe(422);
    expect(market.body.error.code).toBe('sub_merchants_required');

    const created = await t.api<MerchantView>('POST', '/v1/merchants', merchantBody(), { token: operator.token });
    expect(created.status).toBe(201);
    expect(created.body.status).toBe('pending_review');
    const dup = await t.api<ErrorBody>('POST', '/v1/merchants', merchantBody({ mid: created.body.mid }));
    expect(dup.status).toBe(409);
    // Not active yet: cannot be bound.
    const d = await registerAndEnroll(t);
    const early = await t.api<ErrorBody>('PUT', `/v1/devices/${d.deviceId}/binding`, { merchantId: created.body.id, tid: uniqueTid() });
    expect(early.body.error.code).toBe('merchant_not_active');
    // An operator cannot approve; the creator (even an admin) cannot approve their own.
    expect((await t.api('POST', `/v1/merchants/${created.body.id}/approve`, undefined, { token: operator.token })).status).toBe(403);
    const own = await t.api<MerchantView>('POST', '/v1/merchants', merchantBody(), { token: admin2.token });
    const self = await t.api<ErrorBody>('POST', `/v1/merchants/${own.body.id}/approve`, undefined, { token: admin2.token });
    expect(self.status).toBe(403);
    expect(self.body.error.code).toBe('same_user');
    const ok = await t.api<MerchantView>('POST', `/v1/merchants/${created.body.id}/approve`, undefined, { token: admin2.token });
    expect(ok.status).toBe(200);
    expect(ok.body.status).toBe('active');
    const rejected = await t.api<MerchantView>('POST', `/v1/merchants/${own.body.id}/reject`, { reason: 'documents forged' });
    expect(rejected.body.status).toBe('rejected');
    const audit = await t.api<{ items: { action: string; actorId: string; ip: string }[] }>('GET', `/v1/audit?target=${created.body.id}`);
    expect(audit.body.items.map((i) => i.action)).toEqual(['merchant.approve', 'merchant.create']);
    expect(audit.body.items[0]!.actorId).toBe(admin2.id);
    expect(audit.body.items[0]!.ip).toMatch(/^(::ffff:)?127\.0\.0\.1$/);
    const spec = await t.api<{ paths: Record<string, unknown> }>('GET', '/openapi.json', undefined, { token: null });
    expect(Object.keys(spec.body.paths)).toEqual(
      expect.arrayContaining(['/v1/merchants', '/v1/devices/{id}/binding', '/v1/rebind-requests/{id}/approve', '/v1/devices/{id}/lock']),
    );
  });

  it('binds an unbound terminal, sends a signed token, and refuses to overwrite (409 binding_locked)', async () => {
    const m = await activeMerchant(t, admin2);
    const d = await registerAndEnroll(t);
    const term = await rawTerminal(d);
    clients.push(term.client);
    const tid = uniqueTid();
    const res = await t.api<{ epoch: number; tid: string }>('PUT', `/v1/devices/${d.deviceId}/binding`, { merchantId: m.id, tid });
    expect(res.status).toBe(200);
    expect(res.body.epoch).toBe(1);
    const [cmd] = await term.waitFor('binding.set');
    const token = String(cmd!.payload.token);
    const parts = splitBindingToken(token)!;
    const claims = bindingClaims.parse(JSON.parse(Buffer.from(parts.payload, 'base64url').toString()));
    expect(claims).toMatchObject({ deviceId: d.deviceId, merchantId: m.id, mid: m.mid, tid, epoch: 1 });
    expect(cmd!.payload.txnPolicy).toMatchObject({ merchantId: m.id, timezone: 'Asia/Shanghai' });

    const other = await activeMerchant(t, admin2);
    const again = await t.api<ErrorBody>('PUT', `/v1/devices/${d.deviceId}/binding`, { merchantId: other.id, tid: uniqueTid() });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('binding_locked');
    // TID unique within the merchant.
    const d2 = await registerAndEnroll(t);
    const sameTid = await t.api<ErrorBody>('PUT', `/v1/devices/${d2.deviceId}/binding`, { merchantId: m.id, tid });
    expect(sameTid.status).toBe(409);
    expect(sameTid.body.error.code).toBe('tid_taken');
    const view = await t.api<{ bound: boolean; merchant: { id: string }; lock: LockView }>('GET', `/v1/devices/${d.deviceId}/binding`);
    expect(view.body).toMatchObject({ bound: true, merchant: { id: m.id }, lock: { locked: false } });
  });

  it('two simultaneous binds of one terminal: exactly one wins', async () => {
    const a = await activeMerchant(t, admin2);
    const b = await activeMerchant(t, admin2);
    for (let round = 0; round < 3; round++) {
      const d = await registerAndEnroll(t);
      const results = await Promise.all([
        t.api<ErrorBody>('PUT', `/v1/devices/${d.deviceId}/binding`, { merchantId: a.id, tid: uniqueTid() }),
        t.api<ErrorBody>('PUT', `/v1/devices/${d.deviceId}/binding`, { merchantId: b.id, tid: uniqueTid() }),
      ]);
      expect(results.map((r) => r.status).sort()).toEqual([200, 409]);
      expect(results.find((r) => r.status === 409)!.body.error.code).toBe('binding_locked');
      const history = await t.api<{ items: unknown[] }>('GET', `/v1/devices/${d.deviceId}/binding/history`);
      expect(history.body.items).toHaveLength(1);
    }
  });

  it('re-binds only by maker-checker: the requester cannot approve, another admin can; old binding kept', async () => {
    const from = await activeMerchant(t, admin2);
    const to = await activeMerchant(t, admin2);
    const d = await bound(from);
    const term = await rawTerminal(d);
    clients.push(term.client);
    await term.waitFor('binding.set');
    const tid = uniqueTid();
    const filed = await t.api<{ id: string; status: string }>(
      'POST',
      `/v1/devices/${d.deviceId}/rebind-requests`,
      { merchantId: to.id, tid, reason: 'shop sold' },
      { token: admin3.token },
    );
    expect(filed.status).toBe(201);
    expect(filed.body.status).toBe('pending');
    const second = await t.api<ErrorBody>(
      'POST',
      `/v1/devices/${d.deviceId}/rebind-requests`,
      { merchantId: to.id, tid, reason: 'again' },
      { token: operator.token },
    );
    expect(second.body.error.code).toBe('rebind_pending');

    const byRequester = await t.api<ErrorBody>('POST', `/v1/rebind-requests/${filed.body.id}/approve`, undefined, { token: admin3.token });
    expect(byRequester.status).toBe(403);
    const byOperator = await t.api('POST', `/v1/rebind-requests/${filed.body.id}/approve`, undefined, { token: operator.token });
    expect(byOperator.status).toBe(403);
    const ok = await t.api<{ request: { status: string; decidedBy: string }; binding: { epoch: number; merchantId: string } }>(
      'POST',
      `/v1/rebind-requests/${filed.body.id}/approve`,
      { note: 'checked the contract' },
      { token: admin2.token },
    );
    expect(ok.status).toBe(200);
    expect(ok.body.request).toMatchObject({ status: 'approved', decidedBy: admin2.id });
    expect(ok.body.binding).toMatchObject({ epoch: 2, merchantId: to.id });
    await term.waitFor('keys.zeroize');
    // (A command may be delivered twice; the terminal acts on it once.)
    const rebind = await eventually(async () => term.seen.find((c) => c.type === 'binding.set' && c.payload.wipe === true));
    expect(String(rebind.payload.token)).not.toBe(String(term.seen.find((c) => c.type === 'binding.set')!.payload.token));

    const history = await t.api<{ items: { merchantId: string; closedAt: string | null; epoch: number }[] }>(
      'GET',
      `/v1/devices/${d.deviceId}/binding/history`,
    );
    expect(history.body.items.map((h) => [h.merchantId, h.closedAt === null, h.epoch])).toEqual([
      [to.id, true, 2],
      [from.id, false, 1],
    ]);
    const audit = await t.api<{ items: { action: string; actorId: string }[] }>('GET', `/v1/audit?target=${d.deviceId}`);
    expect(audit.body.items.map((i) => i.action)).toEqual(expect.arrayContaining(['binding.create', 'rebind.request', 'rebind.approve']));
    // Decided once.
    expect(
      (await t.api<ErrorBody>('POST', `/v1/rebind-requests/${filed.body.id}/reject`, undefined, { token: admin2.token })).body.error.code,
    ).toBe('request_decided');
  });

  it('two admins approving one request at once: one approval, one new binding', async () => {
    const from = await activeMerchant(t, admin2);
    const to = await activeMerchant(t, admin2);
    const d = await bound(from);
    const filed = await t.api<{ id: string }>(
      'POST',
      `/v1/devices/${d.deviceId}/rebind-requests`,
      { merchantId: to.id, tid: uniqueTid(), reason: 'x' },
      { token: operator.token },
    );
    const results = await Promise.all([
      t.api<ErrorBody>('POST', `/v1/rebind-requests/${filed.body.id}/approve`, undefined, { token: admin2.token }),
      t.api<ErrorBody>('POST', `/v1/rebind-requests/${filed.body.id}/approve`, undefined, { token: admin3.token }),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual([200, 409]);
    const history = await t.api<{ items: { closedAt: string | null }[] }>('GET', `/v1/devices/${d.deviceId}/binding/history`);
    expect(history.body.items.map((h) => h.closedAt === null)).toEqual([true, false]);
  });

  it('expires undecided rebind requests', async () => {
    const from = await activeMerchant(t, admin2);
    const to = await activeMerchant(t, admin2);
    const d = await bound(from);
    const filed = await t.api<{ id: string }>('POST', `/v1/devices/${d.deviceId}/rebind-requests`, {
      merchantId: to.id,
      tid: uniqueTid(),
      reason: 'moving',
    });
    const mod = moduleOf(t);
    // The BullMQ job scheduler that runs the expiry is in place.
    expect(await mod.expiryScheduler()).toMatchObject({ key: 'expire-rebind-requests', every: 60_000 });
    expect(await mod.rebinds.expireDue()).toBe(0);
    const { rebindRequests } = await import('../../schemas/tables/merchants.ts');
    const { eq } = await import('drizzle-orm');
    await t.server.parts.db
      .update(rebindRequests)
      .set({ expiresAt: new Date(Date.now() - 1000) })
      .where(eq(rebindRequests.id, filed.body.id));
    expect(await mod.rebinds.expireDue()).toBe(1);
    const r = await t.api<{ status: string }>('GET', `/v1/rebind-requests/${filed.body.id}`);
    expect(r.body.status).toBe('expired');
    const late = await t.api<ErrorBody>('POST', `/v1/rebind-requests/${filed.body.id}/approve`, undefined, { token: admin2.token });
    expect(late.status).toBe(409);
  });

  it('suspending a merchant locks every terminal; reactivating unlocks only those locks', async () => {
    const m = await activeMerchant(t, admin2);
    const devs = await Promise.all([bound(m), bound(m), bound(m)]);
    const terms = await Promise.all(devs.map((d) => rawTerminal(d)));
    clients.push(...terms.map((x) => x.client));
    // One terminal also locked by an operator for another reason.
    await t.api('POST', `/v1/devices/${devs[0]!.deviceId}/lock`, { note: 'till check' });
    const s = await t.api<{ lockedTerminals: number }>('POST', `/v1/merchants/${m.id}/suspend`, { reason: 'fraud investigation' });
    expect(s.status).toBe(200);
    expect(s.body.lockedTerminals).toBe(3);
    for (const term of terms) await term.waitFor('lock');
    for (const d of devs) {
      const lock = await t.api<LockView>('GET', `/v1/devices/${d.deviceId}/lock`);
      expect(lock.body.locked).toBe(true);
      expect(lock.body.reasons.map((r) => r.reason)).toContain('merchant_suspended');
    }
    const r = await t.api<{ releasedTerminals: number }>('POST', `/v1/merchants/${m.id}/reactivate`);
    expect(r.body.releasedTerminals).toBe(3);
    await terms[1]!.waitFor('unlock');
    const first = await t.api<LockView>('GET', `/v1/devices/${devs[0]!.deviceId}/lock`);
    expect(first.body).toMatchObject({ locked: true, reasons: [{ reason: 'operator' }] });
    const second = await t.api<LockView>('GET', `/v1/devices/${devs[1]!.deviceId}/lock`);
    expect(second.body.locked).toBe(false);
    expect(terms[0]!.seen.filter((c) => c.type === 'unlock')).toHaveLength(0);
  });

  it('queues a lock for an offline terminal and says so', async () => {
    const m = await activeMerchant(t, admin2);
    const d = await bound(m);
    const locked = await t.api<LockView>('POST', `/v1/devices/${d.deviceId}/lock`, { note: 'lost' }, { token: operator.token });
    expect(locked.body.locked).toBe(true);
    const queued = await eventually(async () => {
      const r = await t.api<LockView>('GET', `/v1/devices/${d.deviceId}/lock`);
      return r.body.command?.state === 'queued' ? r.body : null;
    });
    expect(queued.command!.queued).toBe(true);
    const term = await rawTerminal(d);
    clients.push(term.client);
    await term.waitFor('lock');
    await eventually(async () => (await t.api<LockView>('GET', `/v1/devices/${d.deviceId}/lock`)).body.command?.state === 'succeeded');
  });

  it('adopts a bare lock command (tamper, commands API) as a lock reason that other unlocks leave alone', async () => {
    const m = await activeMerchant(t, admin2);
    const d = await bound(m);
    const term = await rawTerminal(d);
    clients.push(term.client);
    await t.server.parts.commands.create(d.deviceId, { type: 'lock', payload: { reason: 'tamper' }, createdBy: null });
    const state = await eventually(async () => {
      const r = await t.api<LockView>('GET', `/v1/devices/${d.deviceId}/lock`);
      return r.body.reasons.some((x) => x.reason === 'tamper') ? r.body : null;
    });
    expect(state.locked).toBe(true);
    await t.api('POST', `/v1/merchants/${m.id}/suspend`, { reason: 'audit' });
    await t.api('POST', `/v1/merchants/${m.id}/reactivate`);
    expect((await t.api<LockView>('GET', `/v1/devices/${d.deviceId}/lock`)).body).toMatchObject({
      locked: true,
      reasons: [{ reason: 'tamper' }],
    });
    const lifted = await t.api<LockView>('POST', `/v1/devices/${d.deviceId}/unlock`, { reason: 'tamper', note: 'inspected, seal intact' });
    expect(lifted.body.locked).toBe(false);
    await term.waitFor('unlock');
  });

  it('relocation: one fix warns, N consecutive fixes open `relocated` and lock; exempt terminals are left alone', async () => {
    const m = await activeMerchant(t, admin2, { policy: { currency: 'CNY', lockOnRelocation: true, relocationFixes: 3 } });
    const d = await bound(m);
    const term = await rawTerminal(d);
    clients.push(term.client);
    const far = { lat: 31.3, lon: 121.6, accuracyM: 20, source: 'gps' };
    await term.health({ location: far });
    await eventually(async () => {
      const a = await t.api<{ items: { code: string }[] }>('GET', `/v1/merchant-alerts?deviceId=${d.deviceId}&open=true`);
      return a.body.items.some((i) => i.code === 'relocation_warning');
    });
    await term.health({}); // no fix: changes nothing
    await term.health({ location: far });
    expect((await t.api<LockView>('GET', `/v1/devices/${d.deviceId}/lock`)).body.locked).toBe(false);
    await term.health({ location: far });
    await term.waitFor('lock');
    const lock = await t.api<LockView>('GET', `/v1/devices/${d.deviceId}/lock`);
    expect(lock.body.reasons.map((r) => r.reason)).toEqual(['relocated']);
    const alerts = await t.api<{ items: { code: string }[] }>('GET', `/v1/merchant-alerts?deviceId=${d.deviceId}&open=true`);
    expect(alerts.body.items.map((i) => i.code)).toEqual(['relocated']);

    const mobile = await bound(m);
    const t2 = await rawTerminal(mobile);
    clients.push(t2.client);
    expect((await t.api('PUT', `/v1/devices/${mobile.deviceId}/relocation-exemption`, { exempt: true, reason: 'food truck' })).status).toBe(
      200,
    );
    for (let i = 0; i < 4; i++) await t2.health({ location: far });
    await new Promise((r) => setTimeout(r, 300));
    await moduleOf(t).idle();
    expect((await t.api<LockView>('GET', `/v1/devices/${mobile.deviceId}/lock`)).body.locked).toBe(false);
  });

  it('reported txn figures over the policy open an alert and lock', async () => {
    const m = await activeMerchant(t, admin2, {
      policy: { currency: 'CNY', dailyCountLimit: 10, dailyAmountLimitMinor: 100_000, singleAmountLimitMinor: 20_000, lockOnBreach: true },
    });
    const d = await bound(m);
    const term = await rawTerminal(d);
    clients.push(term.client);
    const [set] = await term.waitFor('binding.set');
    expect(set!.payload.txnPolicy).toMatchObject({
      dailyCountLimit: 10,
      dailyAmountLimitMinor: 100_000,
      singleAmountLimitMinor: 20_000,
      currency: 'CNY',
    });
    await term.health({ txn: { day: '2026-01-01', count: 5, amountMinor: 50_000, currency: 'CNY' } });
    await term.health({ txn: { day: '2026-01-01', count: 11, amountMinor: 60_000, currency: 'CNY' } });
    await term.waitFor('lock');
    const lock = await t.api<LockView>('GET', `/v1/devices/${d.deviceId}/lock`);
    expect(lock.body.reasons.map((r) => r.reason)).toEqual(['txn_limit']);
    const alerts = await t.api<{ items: { code: string; data: { breaches: { rule: string }[] } }[] }>(
      'GET',
      `/v1/merchant-alerts?deviceId=${d.deviceId}`,
    );
    expect(alerts.body.items[0]).toMatchObject({ code: 'txn_limit_breach', data: { breaches: [{ rule: 'daily_count' }] } });
    // Policy changes reach the merchant's terminals.
    const p = await t.api<{ pushed: { total: number } }>('PUT', `/v1/merchants/${m.id}/policy`, { currency: 'CNY', dailyCountLimit: 50 });
    expect(p.body.pushed.total).toBe(1);
    const [cfg] = await term.waitFor('config.set');
    expect(cfg!.payload.txnPolicy).toMatchObject({ dailyCountLimit: 50 });
  });

  it('blacklist: refused at connect, the live connection cut, nothing queued for it', async () => {
    const m = await activeMerchant(t, admin2);
    const d = await bound(m);
    const term = await rawTerminal(d);
    clients.push(term.client);
    const res = await t.api<{ status: string }>(
      'POST',
      `/v1/devices/${d.deviceId}/blacklist`,
      { reason: 'stolen' },
      { token: operator.token },
    );
    expect(res.status).toBe(200);
    await eventually(async () => term.isClosed(), { timeoutMs: 1500 });
    expect(await connectRefusal(d.mqttUrl, { clientId: d.deviceId, username: d.deviceId, password: d.password })).toBe(5);
    const cmd = await t.api<ErrorBody>('POST', `/v1/devices/${d.deviceId}/commands`, { type: 'reboot' });
    expect(cmd.status).toBe(422);
    const reset = await t.api<ErrorBody>('POST', `/v1/devices/${d.deviceId}/reset-enrollment`);
    expect(reset.body.error.code).toBe('blacklisted');
    const dev = await t.api<{ status: string }>('GET', `/v1/devices/${d.deviceId}`);
    expect(dev.body.status).toBe('blacklisted');
    // An operator cannot undo it; an admin can.
    expect((await t.api('DELETE', `/v1/devices/${d.deviceId}/blacklist`, { reason: 'found' }, { token: operator.token })).status).toBe(403);
    expect((await t.api('DELETE', `/v1/devices/${d.deviceId}/blacklist`, { reason: 'found' })).status).toBe(200);
  });

  it('a payment over the single limit opens an alert; a cash-out-like burst blocks the card automatically', async () => {
    const m = await activeMerchant(t, admin2, { policy: { currency: 'CNY', singleAmountLimitMinor: 50_000 } });
    const d = await bound(m);
    const term = await rawTerminal(d);
    clients.push(term.client);
    await term.waitFor('binding.set');
    await term.event('txn', { txnId: 'a1', amountMinor: 60_000, currency: 'CNY', result: 'approved' });
    await eventually(async () => {
      const a = await t.api<{ items: { code: string }[] }>('GET', `/v1/merchant-alerts?deviceId=${d.deviceId}&open=true`);
      return a.body.items.some((i) => i.code === 'txn_limit_breach');
    });
    // lockOnBreach is off: an alert, no lock.
    expect((await t.api<LockView>('GET', `/v1/devices/${d.deviceId}/lock`)).body.locked).toBe(false);
    const cardHash = 'b'.repeat(64);
    for (let i = 0; i < 5; i++)
      await term.event('txn', { txnId: `c${i}`, amountMinor: 49_000, currency: 'CNY', result: 'approved', cardHash });
    const listed = await eventually(async () => {
      const l = await t.api<{ items: { cardHash: string; source: string; reason: string }[] }>('GET', '/v1/card-blacklist');
      return l.body.items.find((i) => i.cardHash === cardHash);
    });
    expect(listed.source).toBe('auto');
    expect(listed.reason).toMatch(/^auto: 5 payments with one card/);
    const [cfg] = await term.waitFor('config.set');
    expect((cfg!.payload.cardBlacklist as { hashes: string[] }).hashes).toContain(cardHash);
  });

  it('card blacklist: stored and pushed as salted hashes, never the PAN', async () => {
    const m = await activeMerchant(t, admin2);
    const d = await bound(m);
    const term = await rawTerminal(d);
    clients.push(term.client);
    const add = await t.api<{ cardHash: string; added: boolean }>('POST', '/v1/card-blacklist', {
      pan: '4111111111111111',
      reason: 'reported stolen',
    });
    expect(add.status).toBe(201);
    expect(add.body.cardHash).toMatch(/^[0-9a-f]{64}$/);
    const [cfg] = await term.waitFor('config.set');
    const list = cfg!.payload.cardBlacklist as { hashes: string[]; salt: string };
    expect(list.hashes).toContain(add.body.cardHash);
    expect(JSON.stringify(cfg!.payload)).not.toContain('4111111111111111');
    const audit = await t.api<{ items: unknown[] }>('GET', '/v1/audit?action=card_blacklist.add');
    expect(JSON.stringify(audit.body)).not.toContain('4111111111111111');
  });
});
