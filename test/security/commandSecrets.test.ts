// No role reads a command's secrets through the API: the log-upload link's signature and the
// card blacklist's salt are redacted in the command list and the single command, for an auditor
// as for the admin who sent them.
import { expect, it } from 'vitest';
import { registerAndEnroll } from '../helpers/devices.ts';
import { forEachServer } from '../helpers/testServer.ts';

const SALT = 'c2FsdC1vZi10aGUtZmxlZXQ=';
const HASH = 'd'.repeat(64);

interface ShownCommand {
  id: string;
  type: string;
  payload: Record<string, unknown>;
}

forEachServer('command secrets in API answers', (server) => {
  it('shows no link signature and no blacklist salt, to any role', async () => {
    const t = server();
    const device = await registerAndEnroll(t);
    const logs = await t.api<{ id: string; cmdId: string }>('POST', `/v1/devices/${device.deviceId}/logs`, {});
    expect(logs.status).toBe(201);
    const config = await t.api<{ id: string }>('POST', `/v1/devices/${device.deviceId}/commands`, {
      type: 'config.set',
      payload: { cardBlacklist: { version: 1, salt: SALT, hashes: [HASH] } },
    });
    expect(config.status).toBe(201);
    const auditor = await t.api<{ token: string }>('POST', '/v1/users', { name: 'audrey', role: 'auditor' });
    expect(auditor.status).toBe(201);

    for (const token of [undefined, auditor.body.token]) {
      const list = await t.api<{ items: ShownCommand[] }>('GET', `/v1/devices/${device.deviceId}/commands`, undefined, { token });
      expect(list.status).toBe(200);
      const one = await t.api<ShownCommand>('GET', `/v1/devices/${device.deviceId}/commands/${logs.body.cmdId}`, undefined, { token });
      expect(one.status).toBe(200);
      for (const text of [list.text, one.text]) {
        expect(text).not.toMatch(/sig=[0-9a-f]/);
        expect(text).not.toContain(SALT);
      }
      expect(String(one.body.payload.url)).toMatch(/\/v1\/uploads\/logs\/lb_[^?]+\?exp=\d+&sig=\[redacted\]$/);
      const shownConfig = list.body.items.find((c) => c.id === config.body.id);
      expect(shownConfig?.payload).toEqual({ cardBlacklist: { version: 1, salt: '[redacted]', hashes: [HASH] } });
    }
  });
});
