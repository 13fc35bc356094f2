// Issue #16, campaigns: creating one commits with its audit entry or not at all. The database
// refuses the entry (refuseAudit.ts).
import { expect, it } from 'vitest';
import { registerAndEnroll } from '../helpers/devices.ts';
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
});
