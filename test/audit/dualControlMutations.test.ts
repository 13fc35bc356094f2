// Issue #16, dual control of the key vault: a request and its approval commit with their audit
// entries or not at all, and an approved action runs only once its approval is in. The database
// refuses the entry (refuseAudit.ts).
import { eq } from 'drizzle-orm';
import { afterEach, beforeAll, expect, it } from 'vitest';
import { keys } from '../../schemas/tables/keys.ts';
import { registerAndEnroll, type EnrolledDevice } from '../helpers/devices.ts';
import { eventually } from '../helpers/eventually.ts';
import { forEachServer } from '../helpers/testServer.ts';
import { refuseAuditOf } from './refuseAudit.ts';

interface Request { id: string; state: string }

forEachServer('dual-control requests and their audit entries', (server) => {
  let lift: (() => Promise<void>) | undefined;
  let admin2: string;
  let device: EnrolledDevice;
  const db = () => server().server.parts.db;
  const refuse = async (action: string) => {
    lift = await refuseAuditOf(db(), action);
  };
  const chainOk = async () => (await server().api<{ ok: boolean }>('GET', '/v1/audit/verify')).body.ok;
  const requests = async () => (await server().api<{ items: Request[] }>('GET', '/v1/key-vault/requests')).body.items;
  const keyState = async () => (await db().select({ state: keys.state }).from(keys).where(eq(keys.deviceId, device.deviceId)))[0]?.state;
  const bulkRevoke = () => ({ action: 'keys.bulk_revoke', reason: 'suspected leak', params: { deviceIds: [device.deviceId], usages: ['TPK'] } });

  beforeAll(async () => {
    admin2 = (await server().api<{ token: string }>('POST', '/v1/users', { name: 'second admin', role: 'admin' })).body.token;
    device = await registerAndEnroll(server());
    await db().insert(keys).values({ id: `key_${device.deviceId}`, deviceId: device.deviceId, usage: 'TPK', slot: 'tpk', version: 1, state: 'installed', kcv: 'cmac:000000', sealed: 'x', masterGen: 1, installedAt: new Date() });
  });

  afterEach(async () => {
    await lift?.();
    lift = undefined;
  });

  it('a request whose audit entry is refused is not filed', async () => {
    await refuse('keys.bulk_revoke.request');
    expect((await server().api('POST', '/v1/key-vault/requests', bulkRevoke())).status).toBe(500);
    expect(await requests()).toEqual([]);
    expect(await chainOk()).toBe(true);
  });

  it('an approval whose audit entry is refused leaves the request pending and runs nothing', async () => {
    const req = await server().api<Request>('POST', '/v1/key-vault/requests', bulkRevoke());
    expect(req.status).toBe(201);
    await refuse('keys.bulk_revoke.approve');
    expect((await server().api('POST', `/v1/key-vault/requests/${req.body.id}/approve`, {}, { token: admin2 })).status).toBe(500);
    expect((await server().api<Request>('GET', `/v1/key-vault/requests/${req.body.id}`)).body.state).toBe('pending');
    expect(await keyState()).toBe('installed');
    expect(await chainOk()).toBe(true);

    await lift!();
    expect((await server().api('POST', `/v1/key-vault/requests/${req.body.id}/approve`, {}, { token: admin2 })).status).toBe(200);
    await eventually(async () => (await keyState()) === 'revoked', { what: 'the approved bulk revocation', stepMs: 100 });
  });
});
