// The console (client/console/**, Preact in TSX) bundled by esbuild when the server starts, into
// memory: no build step before `npm start` or the tests, and what is served is always the source
// in the tree. A failed bundle is logged with esbuild's reasons and leaves the API running; the
// page then says the console could not be built (the shell still loads, the API answers).
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'esbuild';
import type { Asset } from './assets.ts';

export const consoleEntry = fileURLToPath(new URL('../../client/console/main.tsx', import.meta.url));

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
      // A page's stylesheet import (Leaflet's, the map page's) lands in console.css; the few
      // images Leaflet's CSS names are inlined, since the page loads nothing from elsewhere.
      loader: { '.png': 'dataurl' },
      plugins: [nodeBuiltinsOut],
      logLevel: 'silent',
      legalComments: 'none',
    });
    const files = new Map<string, Asset>();
    for (const out of result.outputFiles) {
      const name = out.path.slice(out.path.lastIndexOf('/') + 1);
      const type = types[name.slice(name.lastIndexOf('.'))];
      if (!type) continue;
      const body = Buffer.from(out.contents);
      files.set(name, { body, type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 16)}"` });
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
