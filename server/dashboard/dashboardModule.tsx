// The browser console (SPEC §7): an HTML shell at /ui/* rendered with Hono JSX, the console bundle
// (client/console/**, built by esbuild at start, bundle.ts) and the CSS and icon under /ui/assets/*. Everything the pages show comes from the public API with
// the user's own token (the charts from GET /v1/devices/{id}/health-history, server/telemetry/).
import { readFileSync } from 'node:fs';
import type { Context } from 'hono';
import { errorJson } from '../http/errorHandler.ts';
import type { AppEnv } from '../http/types.ts';
import type { ModuleContext, ServerModule } from '../moduleContract.ts';
import { loadAssets, type Asset } from './assets.ts';
import { bundleConsole, consoleEntryFile } from './bundle.ts';
import { Shell } from './shell.tsx';

const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/** The page only talks to its own origin and runs only its own files. */
const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

function secure(c: Context<AppEnv>) {
  c.header('Content-Security-Policy', CSP);
  c.header('X-Content-Type-Options', 'nosniff');
  c.header('Referrer-Policy', 'no-referrer');
  c.header('X-Frame-Options', 'DENY');
}

export function createDashboardModule(ctx: Pick<ModuleContext, 'log'>): ServerModule {
  const { files, tag: staticTag } = loadAssets();
  let tag = staticTag;
  return {
    name: 'dashboard',
    async start() {
      const started = Date.now();
      const bundle = await bundleConsole();
      if (!bundle.ok) {
        // The API stays up: only the console is missing, and the log says why.
        ctx.log.error({ reason: bundle.reason }, 'console bundle failed; /ui shows no console until the source builds');
        return;
      }
      for (const [name, asset] of bundle.files) files.set(name, asset);
      tag = `${staticTag}${bundle.files.get(consoleEntryFile)?.etag.slice(1, 7) ?? ''}`;
      const chunks = [...bundle.files.values()].filter((f) => f.immutable).length;
      ctx.log.info({ ms: Date.now() - started, bytes: bundle.files.get(consoleEntryFile)?.body.length, chunks }, 'console bundled');
    },
    routes(app) {
      app.get('/', (c) => c.redirect('/ui/', 302));
      app.get('/ui', (c) => c.redirect('/ui/', 301));

      app.get('/ui/assets/*', (c) => {
        const name = c.req.path.slice('/ui/assets/'.length);
        const asset: Asset | undefined = files.get(name);
        if (!asset) return errorJson(c, 404, 'not_found', `no asset ${name}`);
        secure(c);
        c.header('Content-Type', asset.type);
        c.header('ETag', asset.etag);
        // A chunk's name changes with its content; the other files keep their names and revalidate.
        c.header('Cache-Control', asset.immutable ? 'public, max-age=31536000, immutable' : 'no-cache');
        if (c.req.header('if-none-match') === asset.etag) return c.body(null, 304);
        return c.body(new Uint8Array(asset.body), 200);
      });

      app.get('/ui/*', (c) => {
        secure(c);
        c.header('Cache-Control', 'no-store');
        return c.html(`<!doctype html>${(<Shell path={c.req.path} version={VERSION} assetTag={tag} />).toString()}`);
      });
    },
  };
}
