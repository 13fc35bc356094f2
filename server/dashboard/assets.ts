// The dashboard's static files (hand-written ES modules, CSS, an icon), read once from
// server/dashboard/assets/ and served from memory under /ui/assets/*. Only files found there
// at start are served: no path from a request ever reaches the file system.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface Asset {
  body: Buffer;
  type: string;
  etag: string;
  /** Its name carries a hash of its content (a console chunk): cached for good, never revalidated. */
  immutable?: boolean;
}

const types: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

export const assetsDir = fileURLToPath(new URL('./assets', import.meta.url));

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = join(dir, name);
    return statSync(full).isDirectory() ? walk(full) : [full];
  });
}

export function loadAssets(dir = assetsDir): { files: Map<string, Asset>; tag: string } {
  const files = new Map<string, Asset>();
  const all = createHash('sha256');
  for (const full of walk(dir).sort()) {
    const type = types[extname(full)];
    if (!type) continue;
    const body = readFileSync(full);
    const hash = createHash('sha256').update(body).digest('base64url').slice(0, 16);
    const name = relative(dir, full).split(sep).join('/');
    files.set(name, { body, type, etag: `"${hash}"` });
    all.update(name).update(hash);
  }
  return { files, tag: all.digest('base64url').slice(0, 10) };
}
