// Everything the server keeps under DATA_DIR (the database with device-secret HMACs and token
// hashes, log bundles, firmware, keys) is for its own user only, whatever umask it was started
// with. A 0700 directory is what also covers files other programs write inside it with their own
// modes (PGlite's database files, redis-server's append-only file).
import { chmodSync, mkdirSync } from 'node:fs';
import { chmod, mkdir } from 'node:fs/promises';

export const PRIVATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;

/** Creates `dir` (and missing parents) owner-only, and narrows it if it already exists wider. */
export function ensurePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  // mkdir's mode is masked by the umask and leaves an existing directory as it was.
  chmodSync(dir, PRIVATE_DIR_MODE);
}

export async function ensurePrivateDirAsync(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  await chmod(dir, PRIVATE_DIR_MODE);
}
