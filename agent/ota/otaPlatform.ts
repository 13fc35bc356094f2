// What the OTA handler needs from the terminal beyond Hardware: is a payment transaction under
// way or a settlement batch open, what time is it locally, and (simulator only) which OTA faults
// to play. Attached to a Hardware object rather than kept globally, so thousands of simulated
// terminals in one process each have their own; a real terminal attaches its payment app here.
import type { Hardware } from '../hardware.ts';

export interface OtaFaults {
  /** Cut the first download after this fraction of the image (the link drops mid-file). */
  cutDownloadAt?: number;
  /** Flip a byte of the downloaded image (hash mismatch). */
  corruptImage?: boolean;
  /** Alter the manifest before checking it (as a man in the middle would): bad signature. */
  tamperManifest?: boolean;
  /** Lose power half way through writing the inactive slot (once). */
  powerLossDuringInstall?: boolean;
  /** The new firmware fails its self-test after the reboot: boot back to the old slot. */
  selftestFail?: boolean;
  /** Receive the command and then never answer again. */
  neverAnswer?: boolean;
  /** Report a payment transaction in progress this many times before becoming idle. */
  busyChecks?: number;
}

export interface OtaPlatform {
  /** Why not now: a payment in progress (`busy`) or an open settlement batch (`settlement_open`). */
  busy(): 'busy' | 'settlement_open' | null;
  /** Minutes since local midnight on the terminal. */
  localMinutes(): number;
  faults: OtaFaults;
  /** Observations for tests and the simulator summary. */
  stats: { downloads: number; resumedFrom: number[]; bytes: number };
}

const platforms = new WeakMap<Hardware, OtaPlatform>();

export function otaPlatformOf(hardware: Hardware): OtaPlatform {
  let p = platforms.get(hardware);
  if (!p) {
    const faults: OtaFaults = {};
    p = {
      faults,
      busy() {
        if ((faults.busyChecks ?? 0) > 0) {
          faults.busyChecks = (faults.busyChecks ?? 0) - 1;
          return 'busy';
        }
        return null;
      },
      localMinutes() {
        const d = new Date();
        return d.getHours() * 60 + d.getMinutes();
      },
      stats: { downloads: 0, resumedFrom: [], bytes: 0 },
    };
    platforms.set(hardware, p);
  }
  return p;
}

/** Sets OTA faults (simulator, tests) or a platform's hooks on a terminal's hardware. */
export function configureOta(
  hardware: Hardware,
  patch: { faults?: OtaFaults; busy?: OtaPlatform['busy']; localMinutes?: OtaPlatform['localMinutes'] },
): OtaPlatform {
  const p = otaPlatformOf(hardware);
  if (patch.faults) Object.assign(p.faults, patch.faults);
  if (patch.busy) p.busy = patch.busy;
  if (patch.localMinutes) p.localMinutes = patch.localMinutes;
  return p;
}
