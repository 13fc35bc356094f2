// The console's operations forms, their pure parts: what the firmware page reads from the signed
// manifest an operator pasted (client/console/views/firmware/signedManifest.ts), and the audit
// page's filters turned into GET /v1/audit's query (client/console/views/audit/auditFilters.ts).
import { describe, expect, it } from 'vitest';
import { imageMismatch, readSignedManifest } from '../../client/console/views/firmware/signedManifest.ts';
import { auditQuery } from '../../client/console/views/audit/auditFilters.ts';
import { generatePublisherKey } from '../../scripts/sign-firmware.ts';
import { signedImage } from '../firmware/signedImage.ts';

const fw = signedImage(generatePublisherKey(), 1024, '2.1.0', ['PAX-A920', 'PAX-A80']);
const app = { packageName: 'com.acme.emv', version: '2.1.0', models: ['PAX-A920'], minFirmware: '1.2.0', size: 10, sha256: 'a'.repeat(64) };

describe('readSignedManifest', () => {
  it('reads what the signing tool writes, {manifest, signature}', () => {
    const read = readSignedManifest('firmware', JSON.stringify({ manifest: fw.manifest, signature: fw.signature }, null, 2), '');
    expect(read).toEqual({ ok: true, body: { kind: 'firmware', manifest: fw.manifest, signature: fw.signature } });
  });

  it('takes a bare manifest with the signature typed beside it; a typed signature wins over the file’s', () => {
    expect(readSignedManifest('firmware', JSON.stringify(fw.manifest), ` ${fw.signature} `)).toEqual({
      ok: true,
      body: { kind: 'firmware', manifest: fw.manifest, signature: fw.signature },
    });
    const read = readSignedManifest('firmware', JSON.stringify({ manifest: fw.manifest, signature: 'from-file' }), 'typed');
    expect(read.ok && read.body.signature).toBe('typed');
  });

  it('reads an app manifest as an app, and refuses a firmware manifest as one', () => {
    expect(readSignedManifest('apps', JSON.stringify({ manifest: app, signature: 's' }), '')).toEqual({
      ok: true,
      body: { kind: 'apps', manifest: app, signature: 's' },
    });
    const wrongKind = readSignedManifest('apps', JSON.stringify({ manifest: fw.manifest, signature: fw.signature }), '');
    expect(wrongKind.ok).toBe(false);
    expect(!wrongKind.ok && wrongKind.message).toMatch(/^Not an app manifest: .*packageName/);
  });

  it('says what is wrong, before anything is sent', () => {
    const message = (text: string, signature = '') => {
      const read = readSignedManifest('firmware', text, signature);
      return read.ok ? null : read.message;
    };
    expect(message('   ')).toMatch(/^Paste the signed manifest JSON/);
    expect(message('{"manifest": ')).toBe('The manifest is not a JSON object.');
    expect(message('[1, 2]')).toBe('The manifest is not a JSON object.');
    expect(message(JSON.stringify(fw.manifest))).toBe('No signature: the JSON has none and the signature field is empty.');
    expect(message(JSON.stringify({ manifest: { ...fw.manifest, version: 'two' }, signature: 's' }))).toBe(
      'Not a firmware manifest: version: must be a semantic version (1.2.3)',
    );
    // The manifest's schema is strict: a member nobody signed is named, not dropped.
    expect(message(JSON.stringify({ manifest: { ...fw.manifest, extra: 1 }, signature: 's' }))).toMatch(
      /^Not a firmware manifest: .*extra/,
    );
  });
});

describe('imageMismatch', () => {
  it('names a picked file whose size is not the manifest’s', () => {
    expect(imageMismatch(1024, { size: 1024, name: 'fw.bin' })).toBeNull();
    expect(imageMismatch(1024, { size: 1000, name: 'other.bin' })).toBe(
      'other.bin is 1000 bytes; the manifest says 1024. Pick the image that was signed.',
    );
  });
});

describe('auditQuery', () => {
  it('passes the text filters through and turns local date-times into instants', () => {
    const local = '2026-12-04T18:30';
    expect(auditQuery({ actorId: 'usr_a', action: 'firmware.upload', target: 'fw_1', since: local })).toEqual({
      ok: true,
      query: { actorId: 'usr_a', action: 'firmware.upload', target: 'fw_1', since: new Date(local).toISOString() },
    });
    expect(auditQuery({})).toEqual({ ok: true, query: {} });
  });

  it('refuses a time that is not one, and a range that ends before it starts', () => {
    expect(auditQuery({ until: 'soon' })).toEqual({ ok: false, message: 'Before is not a date and time.' });
    expect(auditQuery({ since: '2026-12-04T18:30', until: '2026-12-04T18:30' })).toEqual({
      ok: false,
      message: '“From” must be earlier than “Before”.',
    });
    expect(auditQuery({ since: '2026-12-04T18:30', until: '2026-12-04T18:31' }).ok).toBe(true);
  });
});
