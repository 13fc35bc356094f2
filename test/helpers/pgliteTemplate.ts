// Test databases on PGlite start from a copy of one migrated data directory. A fresh PGlite runs
// initdb and then every migration: about 6 s per database on a 2-core machine, against 0.3 s to
// copy a directory that has had both. The template is keyed by the migrations and the lock file
// (PGlite's version), so a new migration makes a new template; it is built once per machine, by whichever
// test process gets there first (built aside, then renamed into place).
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openDatabase } from '../../server/db/database.ts';

const migrationsFolder = fileURLToPath(new URL('../../drizzle', import.meta.url));

function templateKey(): string {
  const h = createHash('sha256');
  // The lock file pins PGlite's version (whose data format the template is in).
  h.update(readFileSync(fileURLToPath(new URL('../../package-lock.json', import.meta.url))));
  const walk = (dir: string) => {
    for (const name of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = join(dir, name.name);
      if (name.isDirectory()) walk(p);
      else h.update(name.name).update(readFileSync(p));
    }
  };
  walk(migrationsFolder);
  return h.digest('hex').slice(0, 16);
}

let ready: Promise<string> | undefined;

async function buildTemplate(): Promise<string> {
  const dir = join(tmpdir(), `posfleet-pglite-template-${templateKey()}`);
  if (existsSync(join(dir, 'PG_VERSION'))) return dir;
  const building = mkdtempSync(join(tmpdir(), 'posfleet-pglite-building-'));
  const database = await openDatabase({ dataDir: building });
  await database.close();
  try {
    renameSync(building, dir);
  } catch {
    // Another process finished first; its template is as good as ours.
    rmSync(building, { recursive: true, force: true });
  }
  return dir;
}

/** Copies the migrated template to `target` (created; must not hold a database yet). */
export async function copyMigratedPglite(target: string): Promise<void> {
  ready ??= buildTemplate();
  const template = await ready;
  mkdirSync(target, { recursive: true });
  cpSync(template, target, { recursive: true });
}

/** A new migrated PGlite data directory of its own, under the system temp dir. */
export async function migratedPgliteDir(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'posfleet-pglite-'));
  await copyMigratedPglite(dir);
  return dir;
}

/** Gives a server's DATA_DIR a migrated PGlite database (in DATA_DIR/db) unless it has one. */
export async function seedServerPglite(dataDir: string): Promise<void> {
  const db = join(dataDir, 'db');
  if (!existsSync(join(db, 'PG_VERSION'))) await copyMigratedPglite(db);
}
