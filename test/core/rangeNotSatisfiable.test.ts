// A Range a firmware image cannot satisfy is answered like every other error: 416 with
// `{error: {code, message}}` as JSON, beside the `Content-Range: bytes */size` a resuming client reads.
import { createHash, randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { generatePublisherKey, signManifest } from '../../scripts/sign-firmware.ts';
import type { FirmwareManifest } from '../../schemas/ota.ts';
import { forEachServer, TEST_ADMIN_TOKEN } from '../helpers/testServer.ts';

const publisher = generatePublisherKey();
const bytes = randomBytes(4096);
const manifest: FirmwareManifest = {
  name: 'range-test',
  version: '1.2.3',
  models: ['PAX-A920'],
  size: bytes.length,
  sha256: createHash('sha256').update(bytes).digest('hex'),
};

forEachServer(
  'an unsatisfiable Range',
  (server) => {
    let fwId = '';
    beforeAll(async () => {
      const t = server();
      const created = await t.api<{ id: string }>('POST', '/v1/firmware', { manifest, signature: signManifest(manifest, publisher.privateKeyPem) });
      expect(created.status, created.text).toBe(201);
      fwId = created.body.id;
      const up = await t.api('PUT', `/v1/firmware/${fwId}/content`, undefined, { raw: bytes, headers: { 'content-type': 'application/octet-stream' } });
      expect(up.status, up.text).toBe(200);
    });

    describe.each(['bytes=4096-', 'bytes=5000-6000', 'bytes=-0', 'bytes=10-5'])('%s', (range) => {
      it('is 416 with an {error} body and Content-Range bytes */size', async () => {
        const res = await server().api<{ error: { code: string; message: string } }>('GET', `/v1/firmware/${fwId}/content`, undefined, { headers: { range } });
        expect(res.status).toBe(416);
        expect(res.headers.get('content-type')).toMatch(/^application\/json/);
        expect(res.headers.get('content-range')).toBe(`bytes */${bytes.length}`);
        expect(res.body).toEqual({ error: { code: 'range_not_satisfiable', message: expect.stringContaining(String(bytes.length)) } });
      });
    });

    it('still serves a satisfiable range and the whole image', async () => {
      const auth = { authorization: `Bearer ${TEST_ADMIN_TOKEN}` };
      const part = await fetch(`${server().url}/v1/firmware/${fwId}/content`, { headers: { ...auth, range: 'bytes=4000-' } });
      expect(part.status).toBe(206);
      expect(part.headers.get('content-type')).toBe('application/octet-stream');
      expect(Buffer.from(await part.arrayBuffer())).toEqual(bytes.subarray(4000));
      const whole = await fetch(`${server().url}/v1/firmware/${fwId}/content`, { headers: auth });
      expect(whole.status).toBe(200);
      expect(Buffer.from(await whole.arrayBuffer())).toEqual(bytes);
    });
  },
  { env: { FIRMWARE_PUBLISHER_KEYS: publisher.publicKeyBase64 } },
);
