// The console (client/console/**, Preact in TSX) bundled by esbuild when the server starts, into
// memory and split into an entry and a chunk per page: no build step before `npm start` or the
// tests, and what is served is always the source in the tree. A failed bundle is logged with
// esbuild's reasons and leaves the API running; the page then says the console could not be built (the shell still loads, the API answers).
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'esbuild';
import type { Asset } from './assets.ts';

export const consoleEntry = fileURLToPath(new URL('../../client/console/main.tsx', import.meta.url));
/** The entry chunk, the file the shell links (its name is fixed: the shell's `?v=` tag versions it). */
export const consoleEntryFile = 'console.js';

const types: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
};

/**
 * The console parses answers with the server's own zod schemas (no retyped contract); the files
 * that declare them also hold server helpers that import Node built-ins (node:crypto for digests)
 * and server-only packages (csv-parse for the device import, which touches Buffer as it loads)
 * the schemas never call. Those resolve to an empty module in the browser: a call that did reach
 * one would fail loudly (not a function), never silently.
 */
const nodeBuiltinsOut: Plugin = {
  name: 'node-builtins-out',
  setup(b) {
    b.onResolve({ filter: /^(node:|csv-parse$|csv-parse\/|csv-stringify$|csv-stringify\/)/ }, (args) => ({ path: args.path, namespace: 'node-builtin' }));
    b.onLoad({ filter: /.*/, namespace: 'node-builtin' }, () => ({ contents: 'module.exports = {};', loader: 'js' }));
  },
};

export type ConsoleBundle = { ok: true; files: Map<string, Asset> } | { ok: false; reason: string };

export async function bundleConsole(entry = consoleEntry): Promise<ConsoleBundle> {
  try {
    const result = await build({
      entryPoints: { console: entry },
      bundle: true,
      // Every import() of the router (a page) starts a chunk, and code two chunks share moves to a
      // chunk of its own; chunks are named by the hash of their content ([name]-[hash].js) and so
      // served as immutable. Each page's libraries (Leaflet, uPlot) load with that page only.
      splitting: true,
      chunkNames: '[name]-[hash]',
      write: false,
      minify: true,
      sourcemap: 'linked',
      format: 'esm',
      platform: 'browser',
      target: ['es2022'],
      // The shell links the bundle under /ui/assets/; the map sits beside it.
      outdir: '/ui/assets',
      jsx: 'automatic',
      jsxImportSource: 'preact',
      // A page's stylesheet import (Leaflet's, the map page's) lands in console.css, the entry's
      // stylesheet, which esbuild fills with the CSS of every chunk the entry can import() as well
      // (the per-chunk copies beside it are not linked by anything and not served); the few
      // images Leaflet's CSS names are inlined, since the page loads nothing from elsewhere.
      loader: { '.png': 'dataurl' },
      plugins: [nodeBuiltinsOut],
      logLevel: 'silent',
      legalComments: 'none',
    });
    const files = new Map<string, Asset>();
    for (const out of result.outputFiles) {
      const name = out.path.slice(out.path.lastIndexOf('/') + 1);
      const ext = name.slice(name.lastIndexOf('.'));
      const type = types[ext];
      const chunkStylesheet = name.includes('.css') && !name.startsWith('console.css'); // a copy, see above
      if (!type || chunkStylesheet) continue;
      const body = Buffer.from(out.contents);
      const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 16)}"`;
      files.set(name, { body, type, etag, immutable: ext === '.js' && name !== consoleEntryFile });
    }
    return { ok: true, files };
  } catch (err) {
    const errors = typeof err === 'object' && err !== null && 'errors' in err && Array.isArray(err.errors) ? err.errors : [];
    const reason = errors.length
      ? errors
          .slice(0, 5)
          .map((e: { text?: string; location?: { file?: string; line?: number } | null }) => `${e.location?.file ?? ''}:${e.location?.line ?? ''} ${e.text ?? ''}`)
          .join('; ')
      : err instanceof Error
        ? err.message
        : String(err);
    return { ok: false, reason };
  }
}
