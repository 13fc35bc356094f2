// Firmware artifacts end to end: signed manifests, streamed upload hashed on the way, downloads
// with Range, signed links and device HTTP Basic.
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generatePublisherKey, signManifest } from '../../scripts/sign-firmware.ts';
import type { FirmwareManifest } from '../../schemas/ota.ts';
import { databaseKinds } from '../helpers/databases.ts';
import { registerAndEnroll } from '../helpers/devices.ts';
import { startTestServer, type TestServer } from '../helpers/testServer.ts';

const publisher = generatePublisherKey();
const stranger = generatePublisherKey();

function image(size: number) {
  const bytes = randomBytes(size);
  return { bytes, sha256: createHash('sha256').update(bytes).digest('hex') };
}

for (const database of databaseKinds()) {
  describe(`firmware artifacts [${database}]`, () => {
    let t: TestServer;
    const img = image(300_000);
    const manifest: FirmwareManifest = {
      name: 'pos-os',
      version: '2.0.0',
      models: ['PAX-A920'],
      size: img.bytes.length,
      sha256: img.sha256,
    };
    let fwId = '';

    beforeAll(async () => {
      t = await startTestServer({
        database,
        env: { FIRMWARE_PUBLISHER_KEYS: publisher.publicKeyBase64, HTTP_BODY_LIMIT_BYTES: String(64 * 1024) },
      });
    });
    afterAll(async () => t?.stop());

    it('refuses an unsigned or foreign-signed manifest (422 bad_signature)', async () => {
      const foreign = await t.api<{ error: { code: string } }>('POST', '/v1/firmware', {
        manifest,
        signature: signManifest(manifest, stranger.privateKeyPem),
      });
      expect(foreign.status).toBe(422);
      expect(foreign.body.error.code).toBe('bad_signature');
      const tampered = await t.api<{ error: { code: string } }>('POST', '/v1/firmware', {
        manifest: { ...manifest, models: ['X'] },
        signature: signManifest(manifest, publisher.privateKeyPem),
      });
      expect(tampered.body.error.code).toBe('bad_signature');
    });

    it('registers a signed manifest, keeps nothing of a mismatching upload, then becomes ready', async () => {
      const created = await t.api<{ id: string; state: string }>('POST', '/v1/firmware', {
        manifest,
        signature: signManifest(manifest, publisher.privateKeyPem),
      });
      expect(created.status).toBe(201);
      expect(created.body.state).toBe('awaiting_content');
      fwId = created.body.id;
      const again = await t.api<{ id: string }>('POST', '/v1/firmware', {
        manifest,
        signature: signManifest(manifest, publisher.privateKeyPem),
      });
      expect(again.status).toBe(200);
      expect(again.body.id).toBe(fwId);

      const wrong = Buffer.from(img.bytes);
      wrong[1000] = wrong[1000]! ^ 0xff;
      const bad = await t.api<{ error: { code: string } }>('PUT', `/v1/firmware/${fwId}/content`, undefined, {
        raw: wrong,
        headers: { 'content-type': 'application/octet-stream' },
      });
      expect(bad.status).toBe(422);
      expect(bad.body.error.code).toBe('hash_mismatch');
      const short = await t.api<{ error: { code: string } }>('PUT', `/v1/firmware/${fwId}/content`, undefined, {
        raw: img.bytes.subarray(0, 1000),
        headers: { 'content-type': 'application/octet-stream' },
      });
      expect(short.body.error.code).toBe('hash_mismatch');
      expect((await t.api<{ state: string }>('GET', `/v1/firmware/${fwId}`)).body.state).toBe('awaiting_content');

      // Over the JSON body limit: the image is streamed, not buffered.
      const ok = await t.api<{ state: string }>('PUT', `/v1/firmware/${fwId}/content`, undefined, {
        raw: img.bytes,
        headers: { 'content-type': 'application/octet-stream' },
      });
      expect(ok.status).toBe(200);
      expect(ok.body.state).toBe('ready');
    });

    it('409 for the same name and version with another sha256', async () => {
      const other = { ...manifest, sha256: 'a'.repeat(64) };
      const res = await t.api<{ error: { code: string } }>('POST', '/v1/firmware', {
        manifest: other,
        signature: signManifest(other, publisher.privateKeyPem),
      });
      expect(res.status).toBe(409);
    });

    it('serves the image whole and by Range (206, Content-Range)', async () => {
      const full = await fetch(`${t.url}/v1/firmware/${fwId}/content`, {
        headers: { authorization: `Bearer ${'pf_test-admin-token-0123456789abcdef'}` },
      });
      expect(full.status).toBe(200);
      expect(full.headers.get('accept-ranges')).toBe('bytes');
      expect(
        createHash('sha256')
          .update(Buffer.from(await full.arrayBuffer()))
          .digest('hex'),
      ).toBe(img.sha256);

      const part = await fetch(`${t.url}/v1/firmware/${fwId}/content`, {
        headers: { authorization: 'Bearer pf_test-admin-token-0123456789abcdef', range: 'bytes=1000-1999' },
      });
      expect(part.status).toBe(206);
      expect(part.headers.get('content-range')).toBe(`bytes 1000-1999/${img.bytes.length}`);
      expect(Buffer.from(await part.arrayBuffer()).equals(img.bytes.subarray(1000, 2000))).toBe(true);

      const tail = await fetch(`${t.url}/v1/firmware/${fwId}/content`, {
        headers: { authorization: 'Bearer pf_test-admin-token-0123456789abcdef', range: 'bytes=299000-' },
      });
      expect(tail.status).toBe(206);
      expect(tail.headers.get('content-range')).toBe(`bytes 299000-299999/300000`);
      expect((await tail.arrayBuffer()).byteLength).toBe(1000);

      const beyond = await fetch(`${t.url}/v1/firmware/${fwId}/content`, {
        headers: { authorization: 'Bearer pf_test-admin-token-0123456789abcdef', range: 'bytes=400000-' },
      });
      expect(beyond.status).toBe(416);
      expect(beyond.headers.get('content-range')).toBe('bytes */300000');
    });

    it('lets a device in with HTTP Basic deviceId:secret, and nobody without credentials', async () => {
      const dev = await registerAndEnroll(t);
      const basic = Buffer.from(`${dev.deviceId}:${dev.password}`).toString('base64');
      const ok = await fetch(`${t.url}/v1/firmware/${fwId}/content`, { headers: { authorization: `Basic ${basic}`, range: 'bytes=0-9' } });
      expect(ok.status).toBe(206);
      await ok.arrayBuffer();
      const wrong = await fetch(`${t.url}/v1/firmware/${fwId}/content`, {
        headers: { authorization: `Basic ${Buffer.from(`${dev.deviceId}:nope`).toString('base64')}` },
      });
      expect(wrong.status).toBe(401);
      const none = await fetch(`${t.url}/v1/firmware/${fwId}/content`);
      expect(none.status).toBe(401);
    });

    it('signed links work for their device until they expire, and not when altered', async () => {
      const dev = await registerAndEnroll(t);
      expect(t.server.parts.modules.map((m) => m.name)).toContain('firmware');
      const { createDownloadLinks } = await import('../../server/firmware/downloadLinks.ts');
      const links = createDownloadLinks(Buffer.from(t.server.parts.hasher.hash('posfleet/firmware-download-links/v1'), 'hex'));
      const q = links.sign(fwId, dev.deviceId, Date.now() + 60_000);
      const ok = await fetch(`${t.url}/v1/firmware/${fwId}/content?${q}`, { headers: { range: 'bytes=0-99' } });
      expect(ok.status).toBe(206);
      await ok.arrayBuffer();
      const altered = await fetch(`${t.url}/v1/firmware/${fwId}/content?${q.replace('device=', 'device=x')}`);
      expect(altered.status).toBe(403);
      const expired = await fetch(`${t.url}/v1/firmware/${fwId}/content?${links.sign(fwId, dev.deviceId, Date.now() - 1)}`);
      expect(expired.status).toBe(403);
      expect(((await expired.json()) as { error: { code: string } }).error.code).toBe('link_expired');
      // A revoked terminal's link, still valid and unexpired, downloads nothing; nor do its credentials.
      expect((await t.api('POST', `/v1/devices/${dev.deviceId}/revoke`)).status).toBe(200);
      const revoked = await fetch(`${t.url}/v1/firmware/${fwId}/content?${q}`);
      expect(revoked.status).toBe(403);
      expect(((await revoked.json()) as { error: { code: string } }).error.code).toBe('device_not_allowed');
      const basic = await fetch(`${t.url}/v1/firmware/${fwId}/content`, {
        headers: { authorization: `Basic ${Buffer.from(`${dev.deviceId}:${dev.password}`).toString('base64')}` },
      });
      expect(basic.status).toBe(401);
    });
  });
}
