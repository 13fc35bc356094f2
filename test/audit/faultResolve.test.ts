// Issue #16, faults: resolving with a note stores the resolution, the note and the audit entry
// (which names the note) in one transaction. The database refuses the note (refuseAudit.ts).
import { eq } from 'drizzle-orm';
import { expect, it } from 'vitest';
import { severityRank } from '../../schemas/faults.ts';
import { faultNotes, faults } from '../../schemas/tables/faults.ts';
import { newFaultId } from '../../server/faults/faultService.ts';
import { registerAndEnroll } from '../helpers/devices.ts';
import { forEachServer } from '../helpers/testServer.ts';
import { refuseInserts } from './refuseAudit.ts';

forEachServer('resolving a fault with a note', (server) => {
  it('a resolution whose note is refused leaves the fault open, with no entry', async () => {
    const device = await registerAndEnroll(server());
    const db = server().server.parts.db;
    const id = newFaultId();
    await db.insert(faults).values({ id, deviceId: device.deviceId, code: 'paper_out', title: 'paper out', severity: 'warning', severityRank: severityRank.warning, state: 'open', openedAt: new Date(), updatedAt: new Date() });
    const lift = await refuseInserts(db, 'fault_notes', `new.text = 'refused note'`);
    try {
      expect((await server().api('POST', `/v1/faults/${id}/resolve`, { note: 'refused note' })).status).toBe(500);
      expect((await db.select({ state: faults.state }).from(faults).where(eq(faults.id, id)))[0]?.state).toBe('open');
      expect(await db.select().from(faultNotes).where(eq(faultNotes.faultId, id))).toEqual([]);
      const entries = (await server().api<{ items: unknown[] }>('GET', `/v1/audit?target=${id}`)).body.items;
      expect(entries).toEqual([]);
      expect((await server().api<{ ok: boolean }>('GET', '/v1/audit/verify')).body.ok).toBe(true);
    } finally {
      await lift();
    }
    expect((await server().api<{ state: string }>('POST', `/v1/faults/${id}/resolve`, { note: 'paper loaded' })).body.state).toBe('resolved');
  });
});
