// The browsable API docs at /docs: Swagger UI's own files from the swagger-ui-dist package,
// served by this server, so the page works on a closed network (no CDN).
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Asset as DocsAsset } from '../dashboard/assets.ts';
import type { AppRouter } from '../http/types.ts';

const DOCS_ASSETS: Record<string, string> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
  'favicon-32x32.png': 'image/png',
};

// validatorUrl: null — Swagger UI would otherwise send the document to validator.swagger.io.
// docExpansion 'none' with a filter box: with every tag open (the default 'list'), Swagger UI 5
// stopped rendering our ~180 OpenAPI 3.1 operations after the first few (no error, an idle page);
// tags open one at a time render in full, and the filter finds a tag by name.
const INIT_SCRIPT = `window.ui = SwaggerUIBundle({ url: '/openapi.json', dom_id: '#swagger-ui', validatorUrl: null, deepLinking: true, docExpansion: 'none', filter: true, defaultModelsExpandDepth: 0 });\n`;

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>posfleet API</title>
<link rel="icon" type="image/png" href="/docs/assets/favicon-32x32.png">
<link rel="stylesheet" href="/docs/assets/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script src="/docs/assets/init.js"></script>
</body>
</html>
`;

function asset(body: Buffer, type: string): DocsAsset {
  return { body, type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 16)}"` };
}

/** Swagger UI's files, read once at start from the installed package (and the page's own start-up script). */
export function loadDocsAssets(): Map<string, DocsAsset> {
  const dist = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
  const files = new Map(Object.entries(DOCS_ASSETS).map(([name, type]) => [name, asset(readFileSync(join(dist, name)), type)]));
  files.set('init.js', asset(Buffer.from(INIT_SCRIPT), 'text/javascript; charset=utf-8'));
  return files;
}

export function registerDocsPage(app: AppRouter, files: Map<string, DocsAsset> = loadDocsAssets()) {
  app.get('/docs', (c) => c.html(PAGE));
  app.get('/docs/assets/:name', (c) => {
    const file = files.get(c.req.param('name'));
    if (!file) return c.notFound();
    c.header('ETag', file.etag);
    c.header('Cache-Control', 'public, max-age=3600');
    if (c.req.header('if-none-match') === file.etag) return c.body(null, 304);
    c.header('Content-Type', file.type);
    return c.body(new Uint8Array(file.body));
  });
}
