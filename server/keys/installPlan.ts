// Pure planning of one device's key install: which keys are new (fresh from the vault, never
// derived from the old ones), which are re-sent under a new TMK, and their slots and versions.
import type { KeyUsage, WorkingUsage } from '../../schemas/keyCrypto/header.ts';

export interface CurrentKey {
  id: string;
  usage: KeyUsage;
  slot: string;
  version: number;
}

export interface PlannedKey {
  usage: KeyUsage;
  slot: string;
  version: number;
  /** A new key (generate) or an installed one re-sent under the new TMK (resend). */
  action: 'generate' | 'resend';
  /** For resend. */
  keyId?: string;
}

export const defaultSlot = (u: KeyUsage) => u.toLowerCase();

/**
 * @param usages what the rotation asks for
 * @param installed the device's installed keys, one per slot
 * @param maxVersion highest version ever used per slot on this device (any state)
 */
export function planInstall(usages: readonly KeyUsage[], installed: readonly CurrentKey[], maxVersion: ReadonlyMap<string, number>): PlannedKey[] {
  const tmk = installed.find((k) => k.usage === 'TMK');
  const newTmk = usages.includes('TMK') || !tmk;
  const next = (slot: string) => (maxVersion.get(slot) ?? 0) + 1;
  const plan: PlannedKey[] = [];
  if (newTmk) plan.push({ usage: 'TMK', slot: 'tmk', version: next('tmk'), action: 'generate' });
  const working = [...new Set(usages.filter((u): u is WorkingUsage => u !== 'TMK' && u !== 'IK'))];
  for (const u of working) plan.push({ usage: u, slot: defaultSlot(u), version: next(defaultSlot(u)), action: 'generate' });
  if (newTmk && tmk) {
    // A TMK rotation re-sends the working keys it does not replace, under the new TMK.
    const replaced = new Set(plan.map((p) => p.slot));
    // A DUKPT initial key is not under the TMK once installed (the terminal derives from it alone).
    for (const k of installed) if (k.usage !== 'TMK' && k.usage !== 'IK' && !replaced.has(k.slot)) plan.push({ usage: k.usage, slot: k.slot, version: k.version, action: 'resend', keyId: k.id });
  }
  return plan;
}
