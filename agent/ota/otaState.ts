// The OTA bookkeeping in the state dir (ota/): the `.part` of a download, and a journal of an
// install under way, so a power cut or a crash at any point boots the slot that is known good.
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { writeFileAtomic, type StateStore } from '../stateStore.ts';

export const otaJournal = z.object({
  /** installing: writing the inactive slot; trial: booted into it, not committed yet. */
  phase: z.enum(['installing', 'trial']),
  cmdId: z.string(),
  fromSlot: z.enum(['A', 'B']),
  fromVersion: z.string(),
  toSlot: z.enum(['A', 'B']),
  version: z.string(),
  sha256: z.string(),
});
export type OtaJournal = z.infer<typeof otaJournal>;

export function otaPaths(store: StateStore) {
  const dir = join(store.dir, 'ota');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return {
    dir,
    part: (sha256: string) => join(dir, `${sha256}.part`),
    slot: (slot: 'A' | 'B') => join(dir, `slot-${slot}.img`),
    journal: join(dir, 'journal.json'),
  };
}

export function readJournal(store: StateStore): OtaJournal | null {
  const p = otaPaths(store).journal;
  if (!existsSync(p)) return null;
  const parsed = otaJournal.safeParse(JSON.parse(readFileSync(p, 'utf8')));
  return parsed.success ? parsed.data : null;
}

export const writeJournal = (store: StateStore, j: OtaJournal) => writeFileAtomic(otaPaths(store).journal, JSON.stringify(j));
export const clearJournal = (store: StateStore) => rmSync(otaPaths(store).journal, { force: true });

/**
 * At start: an install that never committed is undone the way a bootloader would: the slot that
 * was active before is active again, and the half-written or untested slot is not trusted.
 */
export function recoverOta(store: StateStore): OtaJournal | null {
  const j = readJournal(store);
  if (!j) return null;
  const slots = store.loadFirmware(j.fromVersion);
  if (slots.active !== j.fromSlot) store.saveFirmware({ ...slots, active: j.fromSlot });
  clearJournal(store);
  return j;
}
