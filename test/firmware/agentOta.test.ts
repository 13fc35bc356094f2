// The agent's ota.install handler alone, against a tiny image server: stages, resume with
// Range, signature and sha256 checks, A/B switch, self-test rollback, and recovery at start.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { otaInstallHandler } from '../../agent/handlers/otaInstall.ts';
import { writeJournal } from '../../agent/ota/otaState.ts';
import { generatePublisherKey, signManifest } from '../../scripts/sign-firmware.ts';
import { ackRecordingDispatcher, otaAgentStore, testHandlerEnv } from '../agent/helpers.ts';
import { signedImage, startImageServer, type ImageServer } from './signedImage.ts';

const publisher = generatePublisherKey();
const { image, manifest, signature } = signedImage(publisher, 100_000);
const ranges: (string | undefined)[] = [];
let server: ImageServer | undefined;
let url = '';

beforeAll(async () => {
  server = await startImageServer(image, { onRequest: (req) => ranges.push(req.headers.range) });
  url = `${server.base}/fw`;
});
afterAll(() => server?.close());

function setup() {
  const store = otaAgentStore(publisher.publicKeyBase64);
  let reboots = 0;
  const env = testHandlerEnv(store, { reboot: async () => void reboots++ });
  const { acks, send } = ackRecordingDispatcher({ 'ota.install': otaInstallHandler(env) });
  let n = 0;
  const install = async (over: Record<string, unknown> = {}) => {
    const id = `c${++n}`;
    await send(id, 'ota.install', { firmwareId: 'fw_1', version: '2.0.0', size: image.length, sha256: manifest.sha256, manifest, signature, url, ...over });
    return acks.filter((a) => a.cmdId === id);
  };
  return { store, hardware: env.hardware, install, reboots: () => reboots, env };
}

describe('agent ota.install', () => {
  it('downloads (resuming a cut), verifies, installs to the inactive slot, reboots, self-tests and commits, acking every stage', async () => {
    const s = setup();
    s.hardware.ota.inject({ cutDownloadAt: 0.4 });
    ranges.length = 0;
    const acks = await s.install();
    expect(acks.at(-1)).toMatchObject({ state: 'succeeded', result: { version: '2.0.0', slot: 'B', previous: '1.0.0' } });
    expect(acks.filter((a) => a.state === 'in_progress').map((a) => a.stage)).toEqual(
      expect.arrayContaining(['checking', 'downloading', 'verifying', 'installing', 'rebooting', 'selftest', 'committing']),
    );
    expect(ranges[0]).toBeUndefined();
    expect(ranges[1]).toMatch(/^bytes=\d+-$/);
    expect(s.store.loadFirmware('x')).toMatchObject({ active: 'B', B: { version: '2.0.0' }, A: { version: '1.0.0' } });
    expect(s.reboots()).toBe(1);
    // Once more: already there.
    expect((await s.install()).at(-1)).toMatchObject({ state: 'succeeded', result: { alreadyInstalled: true } });
  });

  it('refuses a tampered manifest, a foreign model and a corrupt image, keeping the old slot', async () => {
    const s = setup();
    expect((await s.install({ signature: signManifest({ ...manifest, version: '9.9.9' }, publisher.privateKeyPem) })).at(-1)).toMatchObject(
      { state: 'failed', error: { code: 'bad_signature' } },
    );
    const other = { ...manifest, models: ['OTHER'] };
    expect((await s.install({ manifest: other, signature: signManifest(other, publisher.privateKeyPem) })).at(-1)).toMatchObject({
      state: 'failed',
      error: { code: 'incompatible' },
    });
    s.hardware.ota.inject({ corruptImage: true });
    expect((await s.install()).at(-1)).toMatchObject({ state: 'failed', error: { code: 'hash_mismatch' } });
    expect(s.store.loadFirmware('x').active).toBe('A');
  });

  it('plays the simulated hardware faults through its OTA platform: a man in the middle, then a power cut while installing', async () => {
    const s = setup();
    s.hardware.ota.inject({ tamperManifest: true });
    expect((await s.install()).at(-1)).toMatchObject({ state: 'failed', error: { code: 'bad_signature' } });
    s.hardware.ota.faults.tamperManifest = false;

    s.hardware.ota.inject({ powerLossDuringInstall: true });
    expect((await s.install()).at(-1)).toMatchObject({
      state: 'failed',
      error: { code: 'interrupted', message: 'power was lost while installing; the terminal booted its old slot' },
    });
    expect(s.store.loadFirmware('x')).toMatchObject({ active: 'A', A: { version: '1.0.0' } });
    expect(s.reboots()).toBe(1);
    // The power cut plays once; the next attempt installs from the kept download.
    const downloads = s.hardware.ota.stats.downloads;
    expect((await s.install()).at(-1)).toMatchObject({ state: 'succeeded', result: { version: '2.0.0', slot: 'B' } });
    expect(s.hardware.ota.stats.downloads).toBe(downloads + 1);
    expect(s.hardware.ota.stats.bytes).toBe(image.length * 2);
  });

  it('defers while a payment is in progress, and rolls back to the old slot on a failed self-test', async () => {
    const s = setup();
    s.hardware.ota.inject({ busyChecks: 1 });
    expect((await s.install()).at(-1)).toMatchObject({ state: 'deferred', error: { code: 'busy' } });
    s.hardware.ota.inject({ selftestFail: true });
    expect((await s.install()).at(-1)).toMatchObject({ state: 'failed', error: { code: 'selftest_failed' } });
    expect(s.store.loadFirmware('x')).toMatchObject({ active: 'A', A: { version: '1.0.0' } });
    expect(s.reboots()).toBe(2);
  });

  it('boots the old slot at start when an install never committed (crash on trial)', () => {
    const s = setup();
    s.store.saveFirmware({ active: 'B', A: { version: '1.0.0' }, B: { version: '2.0.0' } });
    writeJournal(s.store, {
      phase: 'trial',
      cmdId: 'c9',
      fromSlot: 'A',
      fromVersion: '1.0.0',
      toSlot: 'B',
      version: '2.0.0',
      sha256: manifest.sha256,
    });
    otaInstallHandler(s.env);
    expect(s.store.loadFirmware('x').active).toBe('A');
  });
});
