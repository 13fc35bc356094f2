// Issue #16, firmware artifacts: registering a manifest and marking an uploaded image ready
// commit with their audit entries or not at all. The database refuses the entry (refuseAudit.ts).
import { createHash, randomBytes } from 'node:crypto';
import { afterEach, expect, it } from 'vitest';
import type { FirmwareManifest } from '../../schemas/ota.ts';
import { generatePublisherKey, signManifest } from '../../scripts/sign-firmware.ts';
import { forEachServer } from '../helpers/testServer.ts';
import { refuseAuditOf } from './refuseAudit.ts';

const publisher = generatePublisherKey();
let version = 0;

function signedManifest() {
  const bytes = randomBytes(4096);
  const manifest: FirmwareManifest = { name: 'pos-os', version: `9.0.${++version}`, models: ['PAX-A920'], size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') };
  return { bytes, manifest, signature: signManifest(manifest, publisher.privateKeyPem) };
}

forEachServer(
  'firmware mutations and their audit entries',
  (server) => {
    let lift: (() => Promise<void>) | undefined;
    const refuse = async (action: string) => {
      lift = await refuseAuditOf(server().server.parts.db, action);
    };
    const entriesOf = async (action: string) => (await server().api<{ items: { target: string | null }[] }>('GET', `/v1/audit?action=${action}`)).body.items;
    const chainOk = async () => (await server().api<{ ok: boolean }>('GET', '/v1/audit/verify')).body.ok;
    const upload = (id: string, bytes: Buffer) =>
      server().api<{ state: string }>('PUT', `/v1/firmware/${id}/content`, undefined, { raw: new Uint8Array(bytes), headers: { 'content-type': 'application/octet-stream' } });

    afterEach(async () => {
      await lift?.();
      lift = undefined;
    });

    it('a manifest whose audit entry is refused is not registered', async () => {
      const { manifest, signature } = signedManifest();
      await refuse('firmware.create');
      expect((await server().api('POST', '/v1/firmware', { manifest, signature })).status).toBe(500);
      const listed = (await server().api<{ items: { version: string }[] }>('GET', '/v1/firmware?limit=100')).body.items;
      expect(listed.map((f) => f.version)).not.toContain(manifest.version);
      expect(await chainOk()).toBe(true);

      await lift!();
      expect((await server().api('POST', '/v1/firmware', { manifest, signature })).status).toBe(201);
    });

    it('an upload whose audit entry is refused leaves the artifact awaiting its content', async () => {
      const { bytes, manifest, signature } = signedManifest();
      const created = await server().api<{ id: string }>('POST', '/v1/firmware', { manifest, signature });
      expect(created.status).toBe(201);
      await refuse('firmware.upload');
      expect((await upload(created.body.id, bytes)).status).toBe(500);
      expect((await server().api<{ state: string }>('GET', `/v1/firmware/${created.body.id}`)).body.state).toBe('awaiting_content');
      expect((await entriesOf('firmware.upload')).filter((e) => e.target === created.body.id)).toEqual([]);
      expect(await chainOk()).toBe(true);

      await lift!();
      expect((await upload(created.body.id, bytes)).body.state).toBe('ready');
    });
  },
  { env: { FIRMWARE_PUBLISHER_KEYS: publisher.publicKeyBase64 } },
);
