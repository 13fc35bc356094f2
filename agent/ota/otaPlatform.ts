// What the OTA handler needs from the terminal beyond the sensors: is a payment under way, what
// time is it locally, and the steps that touch the firmware store (fetch the image, write the
// inactive slot, self-test the new firmware). The handler decides; the platform does. A
// terminal's Hardware object carries its own (`hardware.ota`: a real terminal's payment app and
// bootloader, or the simulator's, which plays OTA faults: simulatedOta.ts), so the handler has no
// simulation branch and thousands of simulated terminals in one process each have their own;
// hardware without one gets the plain terminal below.
import { renameSync } from 'node:fs';
import type { OtaInstallPayload } from '../../schemas/ota.ts';
import type { Hardware, SelfTestOutcome } from '../hardware.ts';
import { downloadResumable, type DownloadOptions } from './download.ts';

export interface OtaPlatform {
  /**
   * The command as this terminal takes it up. A real terminal returns it as it came; the
   * simulator may hold it until `signal` aborts (a terminal that never answers) or alter it
   * (a man in the middle).
   */
  received(payload: OtaInstallPayload, signal: AbortSignal | undefined): Promise<OtaInstallPayload>;
  /** Why not now: a payment in progress (`busy`) or an open settlement batch (`settlement_open`). */
  busy(): 'busy' | 'settlement_open' | null;
  /** Minutes since local midnight on the terminal. */
  localMinutes(): number;
  /** Fetches the image into a `.part` file, resuming what is there (download.ts). */
  download(o: DownloadOptions): Promise<void>;
  /** Moves the verified image into the inactive slot's file; throws if the write did not complete. */
  writeSlot(image: string, slotFile: string): Promise<void>;
  /** The new firmware's self-test, after the reboot into it. */
  selfTest(): Promise<SelfTestOutcome>;
}

/** The plain terminal: never busy, local clock, HTTP download, a rename, the storage self-test. */
export function defaultOtaPlatform(hardware: Hardware): OtaPlatform {
  return {
    received: async (payload) => payload,
    busy: () => null,
    localMinutes() {
      const d = new Date();
      return d.getHours() * 60 + d.getMinutes();
    },
    download: downloadResumable,
    writeSlot: async (image, slotFile) => renameSync(image, slotFile),
    selfTest: () => hardware.selfTest('storage'),
  };
}

/** Hardware that does OTA its own way carries its platform as `ota`. */
export type HardwareWithOta = Hardware & { readonly ota?: OtaPlatform };

export const otaPlatformOf = (hardware: HardwareWithOta): OtaPlatform => hardware.ota ?? defaultOtaPlatform(hardware);
