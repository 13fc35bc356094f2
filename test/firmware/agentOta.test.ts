// The agent's ota.install handler alone, against a tiny image server: stages, resume with
// Range, signature and sha256 checks, A/B switch, self-test rollback, and recovery at start.
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { otaInstallHandler } from '../../agent/handlers/otaInstall.ts';
import { createDispatcher } from '../../agent/dispatcher.ts';
import type { HandlerEnv } from '../../agent/handlers/env.ts';
import { writeJournal } from '../../agent/ota/otaState.ts';
import { createSeenLog } from '../../agent/seen.ts';
import { createSimulatedHardware } from '../../agent/simulatedHardware.ts';
import { generatePublisherKey, signManifest } from '../../scripts/sign-firmware.ts';
import type { FirmwareManifest } from '../../schemas/ota.ts';
import { ackMessage, type AckMessage } from '../../schemas/wire.ts';
import { otaAgentStore, silentLog } from '../agent/helpers.ts';

const publisher = generatePublisherKey();
const image = randomBytes(100_000);
const manifest: FirmwareManifest = {
  name: 'pos-os',
  version: '2.0.0',
  models: ['PAX-A920'],
  size: image.length,
  sha256: createHash('sha256').update(image).digest('hex'),
};
const signature = signManifest(manifest, publisher.privateKeyPem);
const ranges: (string | undefined)[] = [];
let http: Server;
let url = '';

beforeAll(async () => {
  http = createServer((req, res) => {
    ranges.push(req.headers.range);
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    const start = m ? Number(m[1]) : 0;
    res.writeHead(m ? 206 : 200, {
      'content-length': String(image.length - start),
      ...(m ? { 'content-range': `bytes ${start}-${image.length - 1}/${image.length}` } : {}),
    });
    res.end(image.subarray(start));
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', () => r()));
  url = `http://127.0.0.1:${(http.address() as AddressInfo).port}/fw`;
});
afterAll(async () => {
  http.closeAllConnections();
  await new Promise<void>((r) => http.close(() => r()));
});

function setup() {
  const store = otaAgentStore(publisher.publicKeyBase64);
  const hardware = createSimulatedHardware({ seed: 3, sleep: async () => undefined });
  let reboots = 0;
  const env: HandlerEnv = {
    hardware,
    store,
    log: silentLog,
    now: Date.now,
    isConnected: () => true,
    reboot: async () => void reboots++,
    applyConfig: () => undefined,
    logBundle: () => '',
  };
  const acks: AckMessage[] = [];
  const d = createDispatcher({
    handlers: { 'ota.install': otaInstallHandler(env) },
    seen: createSeenLog({}),
    sendAck: (a) => acks.push(ackMessage.parse(a)),
    now: Date.now,
    log: silentLog,
  });
  let n = 0;
  const install = async (over: Record<string, unknown> = {}) => {
    const id = `c${++n}`;
    await d.handle(
      JSON.stringify({
        id,
        type: 'ota.install',
        issuedAt: Date.now(),
        payload: { firmwareId: 'fw_1', version: '2.0.0', size: image.length, sha256: manifest.sha256, manifest, signature, url, ...over },
      }),
    );
    return acks.filter((a) => a.cmdId === id);
  };
  return { store, hardware, install, reboots: () => reboots, env };
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
