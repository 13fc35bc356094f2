// The pure parts of app deployments: which terminals are skipped before anything is sent, how an
// ack reads, semantic-version order, and the manifest's signature (the firmware signer's).
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { appManifest, appManifestBytes, appManifestSigner, compareSemver, type AppManifest } from '../../schemas/apps.ts';
import { screenApp } from '../../server/apps/appScreen.ts';
import { judgeApp } from '../../server/apps/appsKind.ts';
import type { CommandUpdate } from '../../server/campaigns/campaignKind.ts';

const pkg = { version: '2.0.0', models: ['PAX-A920'], minFirmware: '1.2.0' };
const update = (u: Partial<CommandUpdate>): CommandUpdate => ({ commandId: 'cmd_x', state: 'received', stage: null, progress: null, error: null, result: null, ...u });

describe('screenApp', () => {
  it('sends an install to a listed model on firmware at or above minFirmware that lacks the version', () => {
    expect(screenApp('install', pkg, { model: 'PAX-A920', fwVersion: '1.2.0', installed: null })).toBeNull();
    expect(screenApp('install', pkg, { model: 'PAX-A920', fwVersion: '1.10.0', installed: '1.0.0' })).toBeNull();
    expect(screenApp('update', pkg, { model: 'PAX-A920', fwVersion: '2.0.0', installed: '1.9.9' })).toBeNull();
  });
  it('skips other models and firmware below minFirmware, unknown or not a version as incompatible', () => {
    expect(screenApp('install', pkg, { model: 'VX-990', fwVersion: '3.0.0', installed: null })).toBe('incompatible');
    expect(screenApp('install', pkg, { model: 'PAX-A920', fwVersion: '1.1.9', installed: null })).toBe('incompatible');
    expect(screenApp('install', pkg, { model: 'PAX-A920', fwVersion: '1.2.0-rc.1', installed: null })).toBe('incompatible');
    expect(screenApp('install', pkg, { model: 'PAX-A920', fwVersion: null, installed: null })).toBe('incompatible');
    expect(screenApp('install', pkg, { model: 'PAX-A920', fwVersion: 'v2', installed: null })).toBe('incompatible');
  });
  it('skips a terminal already on the version; an update needs some version installed, an uninstall the package', () => {
    expect(screenApp('install', pkg, { model: 'PAX-A920', fwVersion: '1.2.0', installed: '2.0.0' })).toBe('already_installed');
    expect(screenApp('update', pkg, { model: 'PAX-A920', fwVersion: '1.2.0', installed: null })).toBe('not_installed');
    expect(screenApp('uninstall', null, { model: 'VX-990', fwVersion: null, installed: null })).toBe('not_installed');
    expect(screenApp('uninstall', null, { model: 'VX-990', fwVersion: null, installed: '0.1.0' })).toBeNull();
  });
});

describe('judgeApp', () => {
  it('reads stages, success with the reported version, and the nothing-to-do answers as skipped', () => {
    expect(judgeApp(update({ state: 'in_progress', stage: 'downloading', progress: 50 }), 'install')).toEqual({ outcome: 'progress', state: 'downloading', progress: 50 });
    expect(judgeApp(update({ state: 'in_progress', stage: 'installing' }), 'install')).toEqual({ outcome: 'progress', state: 'installing' });
    expect(judgeApp(update({ state: 'succeeded', result: { packageName: 'com.acme.emv', version: '2.0.0' } }), 'install')).toEqual({ outcome: 'succeeded', reported: '2.0.0' });
    expect(judgeApp(update({ state: 'rejected', error: { code: 'already_installed', message: 'x' } }), 'install').outcome).toBe('skipped');
    expect(judgeApp(update({ state: 'failed', error: { code: 'not_installed', message: 'x' } }), 'uninstall')).toEqual({ outcome: 'skipped', reason: 'not_installed' });
  });
  it('retries a failed download only; a bad signature or hash is final', () => {
    expect(judgeApp(update({ state: 'failed', error: { code: 'download_failed', message: 'x' } }), 'install')).toMatchObject({ outcome: 'failed', transient: true });
    for (const code of ['bad_signature', 'hash_mismatch', 'incompatible', 'no_space'])
      expect(judgeApp(update({ state: 'failed', error: { code, message: 'x' } }), 'install')).toMatchObject({ outcome: 'failed', code, transient: false });
  });
});

describe('compareSemver', () => {
  const core = fc.tuple(fc.nat(50), fc.nat(50), fc.nat(50));
  it('orders by the numeric core, segment by segment, as tuples do', () => {
    fc.assert(
      fc.property(core, core, (a, b) => {
        const want = a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
        expect(Math.sign(compareSemver(a.join('.'), b.join('.')))).toBe(Math.sign(want));
      }),
    );
  });
  it('puts a pre-release before its release and ignores build metadata', () => {
    expect(compareSemver('1.2.0-rc.1', '1.2.0')).toBe(-1);
    expect(compareSemver('1.2.0+b7', '1.2.0')).toBe(0);
    expect(compareSemver('1.10.0', '1.9.0')).toBe(1);
  });
});

describe('app manifest signatures', () => {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const pub = Buffer.from(publicKey.export({ format: 'jwk' }).x!, 'base64url').toString('base64');
  const manifest: AppManifest = appManifest.parse({
    packageName: 'com.acme.emv',
    version: '2.0.0',
    models: ['PAX-A920'],
    minFirmware: '1.0.0',
    size: 3,
    sha256: createHash('sha256').update('abc').digest('hex'),
  });
  const signature = sign(null, appManifestBytes(manifest), privateKey).toString('base64');
  it('signs the canonical JSON: keys sorted, no white space', () => {
    expect(appManifestBytes(manifest).toString('utf8')).toBe(
      `{"minFirmware":"1.0.0","models":["PAX-A920"],"packageName":"com.acme.emv","sha256":"${manifest.sha256}","size":3,"version":"2.0.0"}`,
    );
  });
  it('verifies with the publisher key and with no other, and not over a changed manifest', () => {
    expect(appManifestSigner(manifest, signature, [pub])).toBe(pub);
    const other = Buffer.from(generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' }).x!, 'base64url').toString('base64');
    expect(appManifestSigner(manifest, signature, [other])).toBeNull();
    expect(appManifestSigner({ ...manifest, models: ['PAX-A920', 'VX-990'] }, signature, [pub])).toBeNull();
  });
  it('refuses names that are not reverse-DNS', () => {
    for (const packageName of ['emv', 'Com.Acme', 'com..acme', '.com.acme', 'com.acme.'])
      expect(appManifest.safeParse({ ...manifest, packageName }).success).toBe(false);
  });
});
