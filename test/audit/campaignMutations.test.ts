// Issue #16, campaigns: creating one (by an operator or by a key-age policy) commits with its audit entry or not at all. The database
// refuses the entry (refuseAudit.ts).
import { expect, it } from 'vitest';
import { keyPolicies, keys } from '../../schemas/tables/keys.ts';
import { registerAndEnroll } from '../helpers/devices.ts';
import { moduleInternals } from '../helpers/moduleInternals.ts';
import { forEachServer } from '../helpers/testServer.ts';
import { refuseAuditOf } from './refuseAudit.ts';

forEachServer('campaign creation and its audit entry', (server) => {
  it('a key rotation whose audit entry is refused is not created', async () => {
    const device = await registerAndEnroll(server());
    const lift = await refuseAuditOf(server().server.parts.db, 'keyRotation.create');
    const spec = { name: 'refused', usages: ['TPK'], target: { deviceIds: [device.deviceId] }, phases: [{ name: 'all', percent: 100 }], successThreshold: 100, errorThreshold: 0 };
    try {
      expect((await server().api('POST', '/v1/key-rotations', spec)).status).toBe(500);
      const listed = (await server().api<{ items: { name: string }[] }>('GET', '/v1/key-rotations')).body.items;
      expect(listed.map((r) => r.name)).not.toContain('refused');
      expect((await server().api<{ ok: boolean }>('GET', '/v1/audit/verify')).body.ok).toBe(true);
    } finally {
      await lift();
    }
    expect((await server().api('POST', '/v1/key-rotations', spec)).status).toBe(201);
  });

  it('a policy rotation whose audit entry is refused is not created', async () => {
    const device = await registerAndEnroll(server());
    const db = server().server.parts.db;
    const old = new Date(Date.now() - 40 * 86_400_000);
    await db.insert(keys).values({ id: `key_${device.deviceId}`, deviceId: device.deviceId, usage: 'TAK', slot: 'tak', version: 1, state: 'installed', kcv: 'cmac:000000', sealed: 'x', masterGen: 1, installedAt: old });
    await db.insert(keyPolicies).values({ usage: 'TAK', maxAgeDays: 30, updatedBy: null });
    const rotations = async () => (await server().api<{ items: { name: string }[] }>('GET', '/v1/key-rotations')).body.items.filter((r) => r.name.startsWith('policy: TAK'));
    const lift = await refuseAuditOf(db, 'keyRotation.policy');
    try {
      await expect(moduleInternals(server(), 'keys').runPolicies()).rejects.toThrow();
      expect(await rotations()).toEqual([]);
      expect((await server().api<{ ok: boolean }>('GET', '/v1/audit/verify')).body.ok).toBe(true);
    } finally {
      await lift();
    }
    expect(await moduleInternals(server(), 'keys').runPolicies()).toHaveLength(1);
    expect(await rotations()).toHaveLength(1);
  });
});
