// The terminal's installed payment apps, in its state dir (apps/inventory.json, written
// atomically) beside the package images (apps/<packageName>/<version>.pkg). A state dir without
// an inventory has the factory apps the agent was built with (AgentDeps.apps), if any.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { appInventory, type AppInventory } from '../../schemas/apps.ts';
import { writeFileAtomic, type StateStore } from '../stateStore.ts';

export function appPaths(store: StateStore) {
  const dir = join(store.dir, 'apps');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return {
    dir,
    inventory: join(dir, 'inventory.json'),
    part: (sha256: string) => join(dir, `${sha256}.part`),
    packageDir: (packageName: string) => join(dir, packageName),
    image: (packageName: string, version: string) => join(dir, packageName, `${version}.pkg`),
  };
}

const stored = z.object({ apps: appInventory });

/** The inventory on disk, else `factory` (null: the terminal reports no inventory). */
export function loadApps(store: StateStore, factory?: AppInventory): AppInventory | null {
  const file = appPaths(store).inventory;
  if (!existsSync(file)) return factory ?? null;
  const parsed = stored.safeParse(JSON.parse(readFileSync(file, 'utf8')));
  // A damaged file reports nothing rather than a guess: the next install writes it again.
  return parsed.success ? parsed.data.apps : null;
}

export function saveApps(store: StateStore, apps: AppInventory): void {
  const sorted = [...apps].sort((a, b) => (a.packageName < b.packageName ? -1 : a.packageName > b.packageName ? 1 : 0));
  writeFileAtomic(appPaths(store).inventory, JSON.stringify({ apps: sorted }));
}
