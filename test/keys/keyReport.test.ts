// POST /v1/devices/{id}/keys/report through the production server (both engines): the report is a
// command, so a terminal that is not enrolled is refused as POST /v1/devices/{id}/commands refuses
// it (422 device_not_enrolled), and no command is created for it.
import { expect, it } from 'vitest';
import type { CommandRow } from '../../schemas/db.ts';
import type { ErrorBody } from '../../server/http/errorHandler.ts';
import type { KeyRouteDeps } from '../../server/keys/keyRoutes.ts';
import { registerAndEnroll, uniqueSerial } from '../helpers/devices.ts';
import { forEachServer } from '../helpers/testServer.ts';

/** POST /v1/devices/{id}/keys/report. */
type ReportSent = Awaited<ReturnType<KeyRouteDeps['report']>>;
/** GET /v1/devices/{id}/commands, as far as these tests read it. */
interface CommandPage {
  items: Array<Pick<CommandRow, 'id' | 'type'>>;
}

forEachServer('key inventory report', (server) => {
  const commandsOf = async (deviceId: string) => (await server().api<CommandPage>('GET', `/v1/devices/${deviceId}/commands`)).body.items;

  it('refuses a registered terminal that never enrolled like the command API does, and creates no command', async () => {
    const reg = await server().api<{ id: string }>('POST', '/v1/devices', { serial: uniqueSerial('KR'), model: 'PAX-A920' });
    expect(reg.status).toBe(201);
    const id = reg.body.id;

    const report = await server().api<ErrorBody>('POST', `/v1/devices/${id}/keys/report`);
    const command = await server().api<ErrorBody>('POST', `/v1/devices/${id}/commands`, {
      type: 'diag.run',
      payload: { components: ['printer'] },
    });
    expect(report.status).toBe(422);
    expect(report.body).toEqual({
      error: { code: 'device_not_enrolled', message: `device ${id} is registered; commands go to enrolled terminals` },
    });
    expect(command.status).toBe(422);
    expect(report.body).toEqual(command.body);
    expect(await commandsOf(id)).toEqual([]);
  });

  it('refuses a revoked terminal, and sends the report to an enrolled one', async () => {
    const enrolled = await registerAndEnroll(server());
    const sent = await server().api<ReportSent>('POST', `/v1/devices/${enrolled.deviceId}/keys/report`);
    expect(sent.status).toBe(202);
    expect(await commandsOf(enrolled.deviceId)).toEqual([expect.objectContaining({ id: sent.body.commandId, type: 'keys.install' })]);

    const revoked = await registerAndEnroll(server());
    expect((await server().api('POST', `/v1/devices/${revoked.deviceId}/revoke`, { reason: 'stolen' })).status).toBe(200);
    const refused = await server().api<ErrorBody>('POST', `/v1/devices/${revoked.deviceId}/keys/report`);
    expect(refused.status).toBe(422);
    expect(refused.body.error.code).toBe('device_not_enrolled');
    expect(refused.body.error.message).toBe(`device ${revoked.deviceId} is revoked; commands go to enrolled terminals`);
    expect(await commandsOf(revoked.deviceId)).toEqual([]);
  });
});
