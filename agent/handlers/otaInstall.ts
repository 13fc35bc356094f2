// ota.install (SPEC §4, docs/ota.md "Agent protocol"): checks → download to the inactive slot
// (resumable) → verify sha256 and the manifest signature against the pinned publisher keys →
// install → reboot into the new slot → self-test → commit, or boot back to the old slot and
// report `failed`. Every stage is acked; a busy terminal or one outside its window acks
// `deferred` with the reason (the server sends the command again later).
// A `cancel` (ctx.signal) is heeded up to the point of no return, which is the start of the
// install into the inactive slot: before it the download stops, the `.part` is removed, the
// active slot was never touched, and the command fails with `cancelled`; after it the install
// carries on and the cancel is answered `too_late`.
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, renameSync, rmSync, statSync } from 'node:fs';
import { manifestSigner, type OtaInstallPayload } from '../../schemas/ota.ts';
import { cancelledError, CommandError, type CommandHandler, type HandlerContext } from '../dispatcher.ts';
import { DownloadAborted, DownloadError } from '../ota/download.ts';
import { otaPlatformOf } from '../ota/otaPlatform.ts';
import { clearJournal, otaPaths, recoverOta, writeJournal } from '../ota/otaState.ts';
import type { Slot } from '../schemas.ts';
import type { HandlerEnv } from './env.ts';

export const MIN_BATTERY = 30;
const other = (s: Slot): Slot => (s === 'A' ? 'B' : 'A');
const toMinutes = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

export function inLocalWindow(minutes: number, w: { start: string; end: string }): boolean {
  const s = toMinutes(w.start);
  const e = toMinutes(w.end);
  if (s === e) return true;
  return s < e ? minutes >= s && minutes < e : minutes >= s || minutes < e;
}

async function sha256Of(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

const fail = (code: string, message: string) => new CommandError(code, message, 'failed');
const defer = (code: string, message: string) => new CommandError(code, message, 'deferred');

export const otaInstallHandler = (env: HandlerEnv): CommandHandler<'ota.install'> => {
  const platform = otaPlatformOf(env.hardware);
  const current = () => env.store.loadFirmware('1.0.0');
  // A previous run stopped mid-install (power cut, crash): the old slot is active again.
  const recovered = recoverOta(env.store);
  if (recovered) env.log.warn({ recovered }, 'an uncommitted firmware install was undone at start');

  return async (ctx: HandlerContext<'ota.install'>) => {
    const slots = current();
    const activeVersion = slots[slots.active].version;

    ctx.progress('checking', 0);
    const p: OtaInstallPayload = await platform.received(ctx.payload, ctx.signal);
    if (activeVersion === p.version && p.mode !== 'download_only')
      return { version: activeVersion, slot: slots.active, alreadyInstalled: true };

    // 1. Is the package what a trusted publisher signed, for this terminal?
    const { manifest } = p;
    const pinned = env.store.loadEnrollment()?.trust.firmwarePublishers ?? [];
    if (!manifestSigner(manifest, p.signature, pinned))
      throw fail('bad_signature', 'the manifest signature does not verify with a pinned publisher key');
    if (manifest.sha256 !== p.sha256 || manifest.size !== p.size || manifest.version !== p.version)
      throw fail('bad_signature', 'the command does not match its signed manifest');
    const model = env.store.loadEnrollment()?.model ?? '';
    if (!manifest.models.includes(model)) throw fail('incompatible', `${manifest.name} ${manifest.version} is not for model ${model}`);

    // 2. Can it run now?
    const battery = env.hardware.readBattery();
    if (battery.level < MIN_BATTERY && !battery.charging)
      throw fail('low_battery', `battery at ${Math.round(battery.level)}% and not charging`);
    const storage = env.hardware.readStorage();
    if (storage.freeMb * 1024 * 1024 < p.size * 2)
      throw fail('no_space', `${storage.freeMb} MB free, ${Math.ceil((p.size * 2) / 1048576)} MB needed`);
    const busy = platform.busy();
    if (busy) throw defer(busy, busy === 'busy' ? 'a payment transaction is in progress' : 'a settlement batch is open');
    const inWindow = !p.window || p.rollback || inLocalWindow(platform.localMinutes(), p.window);
    if (!inWindow && p.mode === 'forced')
      throw defer('outside_window', `outside the maintenance window ${p.window!.start}-${p.window!.end}`);

    // 3. Download to a .part file (resumable), verify, then it becomes the inactive slot's image.
    const paths = otaPaths(env.store);
    const part = paths.part(p.sha256);
    const target = other(slots.active);
    const staged = existsSync(paths.slot(target)) && slots[target].version === p.version;
    // Stops here on a cancel: only the `.part` of this download exists to be removed.
    const stopIfCancelled = () => {
      if (!ctx.signal?.aborted) return;
      if (!staged) rmSync(part, { force: true });
      throw cancelledError('cancelled by the server; the download was discarded and the active slot kept');
    };
    if (!staged) {
      let reported = -1;
      ctx.progress('downloading', 0);
      try {
        await platform.download({
          url: p.url,
          path: part,
          size: p.size,
          ...(env.ca ? { ca: env.ca } : {}),
          ...(ctx.signal ? { signal: ctx.signal } : {}),
          onProgress: (bytes) => {
            const pct = Math.floor((bytes / p.size) * 4) * 25;
            if (pct > reported && pct < 100) {
              reported = pct;
              ctx.progress('downloading', pct);
            }
          },
        });
      } catch (err) {
        if (err instanceof DownloadAborted || ctx.signal?.aborted) stopIfCancelled();
        throw fail(
          'download_failed',
          (err as Error).message + (err instanceof DownloadError && err.permanent ? ' (a new link is needed)' : ''),
        );
      }
      stopIfCancelled();
      ctx.progress('verifying', 100);
      if (statSync(part).size !== p.size || (await sha256Of(part)) !== p.sha256) {
        rmSync(part, { force: true });
        throw fail('hash_mismatch', 'the downloaded image does not match the signed sha256');
      }
    }
    stopIfCancelled();
    if (p.mode === 'download_only') {
      if (!staged) {
        renameSync(part, paths.slot(target));
        env.store.saveFirmware({ ...current(), [target]: { version: p.version } });
      }
      return { version: activeVersion, slot: slots.active, staged: p.version, stagedSlot: target };
    }
    if (!inWindow) throw defer('outside_window', `image staged; installing waits for the window ${p.window!.start}-${p.window!.end}`);
    const busyAgain = platform.busy();
    if (busyAgain) throw defer(busyAgain, 'a payment started while downloading; the image is kept');

    // 4. Install into the inactive slot, journaled so a power cut boots the old slot. This is
    // the point of no return: a cancel that came first stops it here, one that comes later is too late.
    stopIfCancelled();
    ctx.pointOfNoReturn?.();
    ctx.progress('installing', 0);
    const journal = {
      phase: 'installing' as const,
      cmdId: ctx.command.id,
      fromSlot: slots.active,
      fromVersion: activeVersion,
      toSlot: target,
      version: p.version,
      sha256: p.sha256,
    };
    writeJournal(env.store, journal);
    if (!staged) {
      try {
        await platform.writeSlot(part, paths.slot(target));
      } catch (err) {
        // The slot was not written whole: boot the old one, as the bootloader does after a power cut.
        await env.reboot();
        recoverOta(env.store);
        throw fail('interrupted', `${(err as Error).message}; the terminal booted its old slot`);
      }
    }
    env.store.saveFirmware({ ...current(), [target]: { version: p.version } });
    ctx.progress('installing', 100);

    // 5. Reboot into the new slot, on trial until the self-test passes.
    writeJournal(env.store, { ...journal, phase: 'trial' });
    env.store.saveFirmware({ ...current(), active: target });
    ctx.progress('rebooting');
    await env.reboot();
    ctx.progress('selftest');
    const test = await platform.selfTest();
    if (test.status === 'fail') {
      // Boot back into the old slot: the terminal keeps taking payments on what worked.
      env.store.saveFirmware({ ...current(), active: slots.active });
      clearJournal(env.store);
      await env.reboot();
      throw fail(
        'selftest_failed',
        `the new firmware failed its self-test (${test.detail ?? 'storage'}); rolled back to ${activeVersion}`,
      );
    }
    ctx.progress('committing');
    clearJournal(env.store);
    const now = current();
    return { version: now[now.active].version, slot: now.active, previous: activeVersion };
  };
};
