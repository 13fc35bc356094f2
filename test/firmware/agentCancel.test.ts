// Aborting an ota.install on the agent with a `cancel` command (docs/ota.md "Cancel"): the real
// dispatcher, the real ota.install and cancel handlers, and a real HTTP image server that can
// throttle the link. Before the point of no return the download stops, nothing of it is left
// and the old slot stays; after it the cancel is `too_late` and the install carries on.
import { existsSync, readdirSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CommandHandler } from '../../agent/dispatcher.ts';
import { cancelHandler } from '../../agent/handlers/cancel.ts';
import { otaInstallHandler } from '../../agent/handlers/otaInstall.ts';
import { generatePublisherKey } from '../../scripts/sign-firmware.ts';
import { ackRecordingDispatcher, otaAgentStore, testHandlerEnv } from '../agent/helpers.ts';
import { eventually } from '../helpers/eventually.ts';
import { signedImage, startImageServer, type ImageServer } from './signedImage.ts';

const publisher = generatePublisherKey();
const { image, manifest, signature } = signedImage(publisher, 512 * 1024);
let server: ImageServer | undefined;
let base = '';
/** Bytes the server wrote on throttled responses, and whether the client went away early. */
const served = { bytes: 0, closedEarly: 0 };

// `/slow`: 8 KiB every 20 ms (a 512 KiB image takes ~1.3 s); `/fast`: all at once.
function throttled(res: ServerResponse, from: number) {
  let at = from;
  const timer = setInterval(() => {
    if (res.destroyed) return;
    const chunk = image.subarray(at, at + 8192);
    at += chunk.length;
    served.bytes += chunk.length;
    res.write(chunk);
    if (at >= image.length) {
      clearInterval(timer);
      res.end();
    }
  }, 20);
  res.on('close', () => {
    clearInterval(timer);
    if (at < image.length) served.closedEarly++;
  });
}

beforeAll(async () => {
  server = await startImageServer(image, {
    send: (req, res, start) => (req.url?.startsWith('/slow') ? throttled(res, start) : res.end(image.subarray(start))),
  });
  base = server.base;
});
afterAll(() => server?.close());

function setup(extra: Partial<Record<'reboot', CommandHandler>> = {}) {
  const store = otaAgentStore(publisher.publicKeyBase64);
  // The reboot can be held, to catch the install past its point of no return.
  let hold: Promise<void> = Promise.resolve();
  let release: () => void = () => undefined;
  const env = testHandlerEnv(store, { reboot: () => hold });
  const { acks, send } = ackRecordingDispatcher({ 'ota.install': otaInstallHandler(env), cancel: cancelHandler(env), ...extra });
  const install = (id: string, path: '/slow' | '/fast') =>
    send(id, 'ota.install', {
      firmwareId: 'fw_1',
      version: '2.0.0',
      size: image.length,
      sha256: manifest.sha256,
      manifest,
      signature,
      url: `${base}${path}`,
    });
  const cancel = (id: string, cmdId: string) => send(id, 'cancel', { cmdId });
  const otaDir = join(store.dir, 'ota');
  return {
    store,
    acks,
    install,
    cancel,
    send,
    otaFiles: () => (existsSync(otaDir) ? readdirSync(otaDir) : []),
    final: (id: string) => acks.filter((a) => a.cmdId === id && ['succeeded', 'failed', 'rejected'].includes(a.state)),
    holdReboot() {
      hold = new Promise<void>((r) => (release = r));
    },
    releaseReboot: () => release(),
  };
}

describe('cancel on the agent', () => {
  it('aborts a slow download: the old slot stays, no partial file is left, the install fails `cancelled`', async () => {
    const s = setup();
    served.bytes = 0;
    served.closedEarly = 0;
    const running = s.install('i1', '/slow');
    // Well into the download: a .part with some bytes, not all of them.
    await eventually(() => (served.bytes >= 64 * 1024 && s.otaFiles().some((f) => f.endsWith('.part')) ? true : undefined), { timeoutMs: 10_000, what: 'download under way' });
    await s.cancel('x1', 'i1');
    await running;

    expect(s.final('i1')).toEqual([
      { cmdId: 'i1', state: 'failed', error: { code: 'cancelled', message: expect.stringContaining('cancelled') as string } },
    ]);
    expect(s.final('x1')).toEqual([{ cmdId: 'x1', state: 'succeeded', result: { aborted: true, cmdId: 'i1' } }]);
    // The command stopped first, then the cancel was answered.
    expect(s.acks.findIndex((a) => a.cmdId === 'i1' && a.state === 'failed')).toBeLessThan(
      s.acks.findIndex((a) => a.cmdId === 'x1' && a.state === 'succeeded'),
    );
    // Never reached installing; the link was torn down mid-file; nothing is left on disk.
    expect(s.acks.filter((a) => a.cmdId === 'i1' && a.state === 'in_progress').map((a) => a.stage)).not.toContain('installing');
    expect(served.bytes).toBeLessThan(image.length);
    await eventually(() => (served.closedEarly > 0 ? true : undefined), { timeoutMs: 2000, what: 'server sees the client go' });
    expect(s.otaFiles()).toEqual([]);
    expect(s.store.loadFirmware('x')).toEqual({ active: 'A', A: { version: '1.0.0' }, B: { version: '1.0.0' } });

    // A duplicate delivery of the cancel is answered again, not acted on again.
    const before = s.acks.length;
    await s.cancel('x1', 'i1');
    expect(s.acks.slice(before)).toEqual([{ cmdId: 'x1', state: 'succeeded', result: { aborted: true, cmdId: 'i1' } }]);
    // Now nothing runs: a new cancel for it says so.
    await s.cancel('x2', 'i1');
    expect(s.final('x2')).toMatchObject([{ state: 'rejected', error: { code: 'not_running' } }]);
    await s.cancel('x3', 'no-such-command');
    expect(s.final('x3')).toMatchObject([{ state: 'rejected', error: { code: 'not_running' } }]);
  });

  it('answers `too_late` past the point of no return, and the install carries on to the new slot', async () => {
    const s = setup();
    s.holdReboot();
    const running = s.install('i1', '/fast');
    await eventually(() => (s.acks.some((a) => a.cmdId === 'i1' && a.stage === 'rebooting') ? true : undefined), { timeoutMs: 10_000, what: 'rebooting' });
    await s.cancel('x1', 'i1');
    expect(s.final('x1')).toMatchObject([{ state: 'rejected', error: { code: 'too_late' } }]);
    expect(s.final('i1')).toEqual([]);
    s.releaseReboot();
    await running;
    expect(s.final('i1')).toMatchObject([{ state: 'succeeded', result: { version: '2.0.0', slot: 'B', previous: '1.0.0' } }]);
    expect(s.store.loadFirmware('x')).toMatchObject({ active: 'B', B: { version: '2.0.0' } });
    // Done and installed: still too late.
    await s.cancel('x2', 'i1');
    expect(s.final('x2')).toMatchObject([{ state: 'rejected', error: { code: 'too_late' } }]);
  });

  it('drops a command still waiting behind another, and refuses to stop one that cannot be stopped part way', async () => {
    let reboots = 0;
    let releaseReboot: () => void = () => undefined;
    const rebootHeld = new Promise<void>((r) => (releaseReboot = r));
    const s = setup({
      reboot: async () => {
        reboots++;
        await rebootHeld;
        return {};
      },
    });
    const first = s.send('r1', 'reboot', {});
    const queued = s.install('i1', '/fast');
    await eventually(() => (reboots === 1 ? true : undefined), { timeoutMs: 2000, what: 'reboot running' });
    // i1 waits behind r1 (commands run one at a time); the cancel does not wait.
    await s.cancel('x1', 'i1');
    expect(s.final('i1')).toMatchObject([{ state: 'failed', error: { code: 'cancelled' } }]);
    expect(s.final('x1')).toMatchObject([{ state: 'succeeded', result: { aborted: true } }]);
    await s.cancel('x2', 'r1');
    expect(s.final('x2')).toMatchObject([{ state: 'rejected', error: { code: 'not_abortable' } }]);
    releaseReboot();
    await Promise.all([first, queued]);
    expect(s.final('r1')).toMatchObject([{ state: 'succeeded' }]);
    // The dropped install never started.
    expect(s.acks.filter((a) => a.cmdId === 'i1').map((a) => a.state)).toEqual(['received', 'failed']);
    expect(s.store.loadFirmware('x').active).toBe('A');
  });
});
