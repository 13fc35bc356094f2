// The console is split by page (server/dashboard/bundle.ts, client/console/main.tsx): the first
// load is the entry and the chunks it imports statically; each page's chunk brings that page's
// libraries, Leaflet for the map and uPlot for the device page's charts, and nothing else has
// them. Served chunks answer 200 as JavaScript, cached for good (their names carry their hash).
import { beforeAll, describe, expect, it } from 'vitest';
import { bundleConsole, consoleEntryFile } from '../../server/dashboard/bundle.ts';
import { forEachServer } from '../helpers/testServer.ts';

// Class names the libraries' code sets on elements: present in their code, minified or not.
const LEAFLET = /"leaflet-(?:pane|container|zoom-animated)/;
const UPLOT = /"u-(?:over|wrap|legend)"/;

const staticImports = (code: string) => [...code.matchAll(/(?:from|import)\s*"\.\/([\w.-]+\.js)"/g)].map((m) => m[1] ?? '');
const dynamicImports = (code: string) => [...code.matchAll(/import\(\s*"\.\/([\w.-]+\.js)"\s*\)/g)].map((m) => m[1] ?? '');

/** The files a browser fetches to run `start`: it and every chunk it imports statically, transitively. */
function closure(start: string, read: (name: string) => string): string[] {
  const seen = new Set<string>();
  const visit = (name: string) => {
    if (seen.has(name)) return;
    seen.add(name);
    for (const next of staticImports(read(name))) visit(next);
  };
  visit(start);
  return [...seen];
}

describe('console bundle split by page', () => {
  let code: Map<string, string>;
  const read = (name: string) => {
    const text = code.get(name);
    if (text === undefined) throw new Error(`${name} is imported but not in the bundle`);
    return text;
  };
  const pageChunk = (page: string) => {
    const name = dynamicImports(read(consoleEntryFile)).find((n) => n.startsWith(`${page}-`));
    if (!name) throw new Error(`no chunk for ${page}`);
    return name;
  };
  const holds = (files: string[], marker: RegExp) => files.filter((f) => marker.test(read(f)));

  beforeAll(async () => {
    const bundle = await bundleConsole();
    if (!bundle.ok) throw new Error(bundle.reason);
    code = new Map([...bundle.files].filter(([name]) => name.endsWith('.js')).map(([name, f]) => [name, f.body.toString('utf8')]));
  }, 60_000);

  it('builds an entry and a chunk per page', () => {
    const pages = dynamicImports(read(consoleEntryFile));
    expect(new Set(pages.map((n) => n.replace(/-[A-Z0-9]+\.js$/, '')))).toEqual(
      new Set([
        'OverviewPage',
        'FaultsPage',
        'Devices',
        'DevicePage',
        'CampaignsPage',
        'MerchantsPage',
        'MerchantPage',
        'MapPage',
        'KeysPage',
        'FirmwarePage',
        'AuditPage',
        'UsersPage',
        'OrgsPage',
        'GroupsPage',
        'ParametersPage',
      ]),
    );
    expect(code.size).toBeGreaterThan(pages.length + 1);
  });

  it('keeps Leaflet and uPlot out of the first load', () => {
    const first = closure(consoleEntryFile, read);
    expect(holds(first, LEAFLET)).toEqual([]);
    expect(holds(first, UPLOT)).toEqual([]);
    // The markers are real: the map page's files have Leaflet, the device page's uPlot.
    expect(holds(closure(pageChunk('MapPage'), read), LEAFLET)).not.toEqual([]);
    expect(holds(closure(pageChunk('DevicePage'), read), UPLOT)).not.toEqual([]);
  });

  it('loads Leaflet with the map page only and uPlot with the device page only', () => {
    for (const page of dynamicImports(read(consoleEntryFile))) {
      const files = closure(page, read);
      if (!page.startsWith('MapPage-')) expect(holds(files, LEAFLET), page).toEqual([]);
      if (!page.startsWith('DevicePage-')) expect(holds(files, UPLOT), page).toEqual([]);
    }
  });
});

forEachServer('console chunks served', (server) => {
  it('serves the entry and every chunk it reaches as JavaScript, chunks immutable', async () => {
    const shell = await (await fetch(`${server().url}/ui/map`)).text();
    const entry = /<script type="module" src="(\/ui\/assets\/console\.js\?v=[^"]+)"/.exec(shell)?.[1];
    expect(entry).toBeDefined();
    const first = await fetch(`${server().url}${entry}`);
    expect(first.status).toBe(200);
    expect(first.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect(first.headers.get('cache-control')).toBe('no-cache');

    const served = new Map<string, string>([[consoleEntryFile, await first.text()]]);
    const queue = [consoleEntryFile];
    while (queue.length) {
      const code = served.get(queue.shift() ?? '') ?? '';
      for (const name of [...staticImports(code), ...dynamicImports(code)]) {
        if (served.has(name)) continue;
        const res = await fetch(`${server().url}/ui/assets/${name}`);
        expect(res.status, name).toBe(200);
        expect(res.headers.get('content-type'), name).toMatch(/^text\/javascript/);
        expect(res.headers.get('cache-control'), name).toBe('public, max-age=31536000, immutable');
        served.set(name, await res.text());
        queue.push(name);
      }
    }
    expect(served.size).toBeGreaterThan(10);

    // The pages' stylesheets (Leaflet's, uPlot's) still come with the one stylesheet the shell links.
    const css = await fetch(`${server().url}/ui/assets/console.css`);
    expect(css.status).toBe(200);
    expect(css.headers.get('content-type')).toMatch(/^text\/css/);
    const sheet = await css.text();
    expect(sheet).toContain('.leaflet-pane');
    expect(sheet).toContain('.u-over');
  });
});
