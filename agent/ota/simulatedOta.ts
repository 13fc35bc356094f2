// The simulated terminal's OTA platform: the plain terminal's steps (otaPlatform.ts) playing the
// faults a test or the simulated fleet asks for, and counting what its downloads did. The simulated
// hardware carries it as `ota`; the production handler only ever sees an OtaPlatform.
import { closeSync, createWriteStream, openSync, readSync, writeSync } from 'node:fs';
import { cancelledError } from '../dispatcher.ts';
import type { Hardware } from '../hardware.ts';
import { requestImage, type DownloadOptions } from './download.ts';
import { defaultOtaPlatform, type OtaPlatform } from './otaPlatform.ts';

export interface OtaFaults {
  /** Cut the first download after this fraction of the image (the link drops mid-file). */
  cutDownloadAt?: number;
  /** Flip a byte of the downloaded image (hash mismatch). */
  corruptImage?: boolean;
  /** Alter the manifest before checking it (as a man in the middle would): bad signature. */
  tamperManifest?: boolean;
  /** Lose power while writing the inactive slot (once): the slot is not written. */
  powerLossDuringInstall?: boolean;
  /** The new firmware fails its self-test after the reboot: boot back to the old slot. */
  selftestFail?: boolean;
  /** Receive the command and then never answer again. */
  neverAnswer?: boolean;
  /** Report a payment transaction in progress this many times before becoming idle. */
  busyChecks?: number;
}

/** Observations for tests and the simulator. */
export interface OtaStats {
  downloads: number;
  /** The offset of every request that resumed a `.part`. */
  resumedFrom: number[];
  bytes: number;
}

export interface SimulatedOta extends OtaPlatform {
  /** The faults still to play; one-shot faults are removed once played. */
  faults: OtaFaults;
  stats: OtaStats;
  inject(faults: OtaFaults): void;
}

/** The first request of a download whose link drops after `bytes`: what arrived stays in the `.part`. */
async function fetchUntilCut(o: DownloadOptions, bytes: number): Promise<void> {
  const res = await requestImage(new URL(o.url), {}, o.ca, o.timeoutMs ?? 30_000, o.signal).catch(() => null);
  if (!res) return;
  if (res.statusCode !== 200) return void res.resume();
  await new Promise<void>((resolve) => {
    const out = createWriteStream(o.path, { mode: 0o600 });
    let got = 0;
    let cut = false;
    const drop = () => {
      if (cut) return;
      cut = true;
      res.destroy();
      out.end(() => resolve());
    };
    res.on('data', (chunk: Buffer) => {
      if (cut) return;
      const data = chunk.subarray(0, bytes - got);
      got += data.length;
      out.write(data);
      o.onProgress?.(got);
      if (got >= bytes) drop();
    });
    res.on('close', drop);
  });
}

function flipFirstByte(path: string): void {
  const fd = openSync(path, 'r+');
  const b = Buffer.alloc(1);
  readSync(fd, b, 0, 1, 0);
  writeSync(fd, Buffer.from([b[0]! ^ 0xff]), 0, 1, 0);
  closeSync(fd);
}

export function createSimulatedOta(hardware: Hardware): SimulatedOta {
  const real = defaultOtaPlatform(hardware);
  const faults: OtaFaults = {};
  const stats: OtaStats = { downloads: 0, resumedFrom: [], bytes: 0 };

  return {
    faults,
    stats,
    inject: (f) => void Object.assign(faults, f),
    async received(payload, signal) {
      if (faults.neverAnswer)
        await new Promise<never>((_, reject) => signal?.addEventListener('abort', () => reject(cancelledError()), { once: true }));
      if (!faults.tamperManifest) return payload;
      return { ...payload, manifest: { ...payload.manifest, size: payload.manifest.size + 1 } };
    },
    busy() {
      if ((faults.busyChecks ?? 0) > 0) {
        faults.busyChecks = (faults.busyChecks ?? 0) - 1;
        return 'busy';
      }
      return real.busy();
    },
    localMinutes: () => real.localMinutes(),
    async download(o) {
      stats.downloads++;
      const counted: DownloadOptions = {
        ...o,
        onRequest: (from) => {
          if (from > 0) stats.resumedFrom.push(from);
          o.onRequest?.(from);
        },
      };
      const cutAt = faults.cutDownloadAt;
      delete faults.cutDownloadAt;
      if (cutAt !== undefined) await fetchUntilCut(counted, Math.max(1, Math.floor(o.size * cutAt)));
      await real.download(counted);
      stats.bytes += o.size;
      if (faults.corruptImage) flipFirstByte(o.path);
    },
    async writeSlot(image, slotFile) {
      if (faults.powerLossDuringInstall) {
        delete faults.powerLossDuringInstall;
        throw new Error('power was lost while installing');
      }
      await real.writeSlot(image, slotFile);
    },
    async selfTest() {
      const outcome = await real.selfTest();
      return faults.selftestFail ? { status: 'fail', detail: 'injected' } : outcome;
    },
  };
}
