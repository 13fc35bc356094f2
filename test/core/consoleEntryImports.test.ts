// The console's first load (its entry and the chunks that imports statically) holds schema modules,
// never a route module: the entry reads GET /v1/me with MeSchema from the leaf server/auth/meSchema.ts,
// not from server/auth/routes.ts, whose route definitions would come along into the browser.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { bundleConsole, consoleEntryFile } from '../../server/dashboard/bundle.ts';

// A summary only the user routes' definitions carry (server/auth/routes.ts, GET /v1/me).
const USER_ROUTES = /Who the token belongs to/;

const staticImports = (code: string) => [...code.matchAll(/(?:from|import)\s*"\.\/([\w.-]+\.js)"/g)].map((m) => m[1] ?? '');

async function bundledCode(entry?: string): Promise<Map<string, string>> {
  const bundle = await bundleConsole(entry);
  if (!bundle.ok) throw new Error(bundle.reason);
  return new Map([...bundle.files].filter(([name]) => name.endsWith('.js')).map(([name, f]) => [name, f.body.toString('utf8')]));
}

describe('the console entry imports no route module', () => {
  let code: Map<string, string>;

  beforeAll(async () => {
    code = await bundledCode();
  }, 60_000);

  it('has the user routes’ definitions nowhere in the first load', () => {
    const first = new Set<string>();
    const visit = (name: string) => {
      if (first.has(name)) return;
      const text = code.get(name);
      if (text === undefined) throw new Error(`${name} is imported but not in the bundle`);
      first.add(name);
      for (const next of staticImports(text)) visit(next);
    };
    visit(consoleEntryFile);
    expect([...first].filter((name) => USER_ROUTES.test(code.get(name) ?? ''))).toEqual([]);
  });

  it('would show the marker if an entry imported the route module (the check can fail)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'posfleet-entry-'));
    try {
      const routes = fileURLToPath(new URL('../../server/auth/routes.ts', import.meta.url));
      const entry = join(dir, 'entry.ts');
      writeFileSync(entry, `import { authErrors } from ${JSON.stringify(routes)};\nconsole.log(authErrors);\n`);
      const bundled = await bundledCode(entry);
      expect(USER_ROUTES.test(bundled.get(consoleEntryFile) ?? '')).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
