// Modules mount their routes as sub-apps: what a sub-app adds (merchants' idempotency) still runs,
// and only the routes a module exempts skip the bearer auth or the JSON body limit; the rest of
// /v1, unknown paths included, keep both.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ErrorBody } from '../../server/http/errorHandler.ts';
import { databaseKinds } from '../helpers/databases.ts';
import { startTestServer, type TestServer } from '../helpers/testServer.ts';
import { merchantBody, type MerchantView } from '../merchants/helpers.ts';

const LIMIT = 1024;
const overLimit = 'x'.repeat(4 * LIMIT);

for (const database of databaseKinds()) {
  describe(`mounted module routes [${database}]`, () => {
    let t: TestServer;
    beforeAll(async () => {
      t = await startTestServer({ database, env: { HTTP_BODY_LIMIT_BYTES: String(LIMIT) } });
    }, 60_000);
    afterAll(() => t?.stop());

    it("runs a module's own middleware: a retried POST /v1/merchants gets the first answer", async () => {
      const body = merchantBody();
      const headers = { 'idempotency-key': `mount-${database}-${body.mid}` };
      const first = await t.api<MerchantView>('POST', '/v1/merchants', body, { headers });
      const retry = await t.api<MerchantView>('POST', '/v1/merchants', body, { headers });
      expect(first.status).toBe(201);
      expect(retry.status).toBe(201);
      expect(retry.body.id).toBe(first.body.id);
      const again = await t.api<ErrorBody>('POST', '/v1/merchants', body);
      expect([again.status, again.body.error.code]).toEqual([409, 'mid_exists']);
    });

    it('asks for a bearer token everywhere under /v1 but on the exempted routes', async () => {
      const bearer = async (method: string, path: string) => {
        const r = await t.api<ErrorBody>(method, path, undefined, { token: null });
        return [r.status, r.body.error?.message];
      };
      expect(await bearer('GET', '/v1/devices/dev_none/lock')).toEqual([401, 'missing bearer token']);
      expect(await bearer('GET', '/v1/no-such-route')).toEqual([401, 'missing bearer token']);
      // Firmware images: GET asks for its own credentials, PUT (an upload) for a bearer token.
      expect(await bearer('GET', '/v1/firmware/fw_none/content')).toEqual([401, 'a signed link, device credentials (HTTP Basic) or an operator token is needed']);
      expect(await bearer('PUT', '/v1/firmware/fw_none/content')).toEqual([401, 'missing bearer token']);
      // Log uploads: the signed link is the credential (checked once the bundle is found).
      const upload = await t.api<ErrorBody>('PUT', '/v1/uploads/logs/lb_none?exp=1&sig=bad', undefined, { token: null, raw: 'log' });
      expect([upload.status, upload.body.error.message]).toEqual([404, 'log bundle lb_none not found']);
      const enroll = await t.api<ErrorBody>('POST', '/v1/enroll', {}, { token: null });
      expect([enroll.status, enroll.body.error.code]).toEqual([400, 'validation_failed']);
    });

    it('limits bodies but on the routes that stream theirs', async () => {
      const octets = { 'content-type': 'application/octet-stream' };
      const json = await t.api<ErrorBody>('POST', '/v1/merchants', undefined, { raw: overLimit, headers: { 'content-type': 'application/json' } });
      expect([json.status, json.body.error.code]).toEqual([413, 'payload_too_large']);
      const image = await t.api<ErrorBody>('PUT', '/v1/firmware/fw_none/content', undefined, { raw: overLimit, headers: octets });
      expect([image.status, image.body.error.message]).toEqual([404, 'firmware fw_none not found']);
      const bundle = await t.api<ErrorBody>('PUT', '/v1/uploads/logs/lb_none?exp=1&sig=bad', undefined, { token: null, raw: overLimit, headers: octets });
      expect([bundle.status, bundle.body.error.message]).toEqual([404, 'log bundle lb_none not found']);
    });
  });
}
