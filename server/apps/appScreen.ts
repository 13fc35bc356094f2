// Which terminals an app campaign sends nothing to, and why (pure: unit-tested without a server).
// An install or update goes only to a model the package lists, running firmware at or above its
// minFirmware, and not already on that version; an update only where some version is installed;
// an uninstall only where the package is installed.
import { compareSemver, isSemver } from '../../schemas/apps.ts';

export const appActions = ['install', 'update', 'uninstall'] as const;
export type AppAction = (typeof appActions)[number];

export interface ScreenedPackage {
  version: string;
  models: readonly string[];
  minFirmware: string;
}

export interface ScreenedTerminal {
  model: string;
  /** The firmware version it reports (null: unknown). */
  fwVersion: string | null;
  /** The version of the package it has installed (null: not installed). */
  installed: string | null;
}

/** null to send, else the skip note: `incompatible`, `already_installed` or `not_installed`. */
export function screenApp(action: AppAction, pkg: ScreenedPackage | null, t: ScreenedTerminal): string | null {
  if (action === 'uninstall') return t.installed === null ? 'not_installed' : null;
  if (!pkg) return 'incompatible';
  if (!pkg.models.includes(t.model)) return 'incompatible';
  // A firmware version that is unknown or not a version cannot be shown to be high enough.
  if (!isSemver(t.fwVersion) || compareSemver(t.fwVersion, pkg.minFirmware) < 0) return 'incompatible';
  if (t.installed === pkg.version) return 'already_installed';
  if (action === 'update' && t.installed === null) return 'not_installed';
  return null;
}
