// The CLI against a real server on both databases: devices list/get as JSON and tables, a CSV
// import (a quoted field spanning lines too), export, and an API error's code and exit status.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { onDefaultServer, TEST_ADMIN_TOKEN } from '../helpers/testServer.ts';
import { runCli, scratchHome } from './runCli.ts';

interface Page {
  items: { id: string; serial: string; model: string; status: string; labels?: Record<string, string> }[];
  nextCursor: string | null;
}

onDefaultServer('operator CLI: devices', (server) => {
  let dir: string;
  let env: Record<string, string>;
  const tag = `C${Date.now().toString(36)}`;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'posfleet-cli-'));
    env = { HOME: scratchHome(), POSFLEET_URL: server().url, POSFLEET_TOKEN: TEST_ADMIN_TOKEN };
    for (const [serial, model] of [
      [`${tag}-1`, 'PAX-A920'],
      [`${tag}-2`, 'PAX-A920'],
      [`${tag}-3`, 'PAX-A80'],
    ]) {
      const r = await server().api('POST', '/v1/devices', { serial, model });
      expect(r.status).toBe(201);
    }
  });
  afterAll(() => dir && rmSync(dir, { recursive: true, force: true }));

  it('devices list --json prints the API page; filters reach the API', async () => {
    const r = await runCli(['devices', 'list', '--json', '--search', tag, '--model', 'PAX-A920'], { env });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const page: Page = JSON.parse(r.stdout);
    expect(page.items.map((d) => d.serial).sort()).toEqual([`${tag}-1`, `${tag}-2`]);
    expect(page.nextCursor).toBeNull();
  });

  it('devices list pages with --limit and says how to get the next page', async () => {
    const r = await runCli(['devices', 'list', '--search', tag, '--limit', '2'], { env });
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^SERIAL\s+ID\s+MODEL\s+STATUS\s+ONLINE/);
    expect(lines).toHaveLength(3);
    expect(r.stderr).toMatch(/^more: add --cursor \S+/);
    const cursor = r.stderr.trim().split(' ').at(-1)!;
    const next = await runCli(['devices', 'list', '--search', tag, '--limit', '2', '--cursor', cursor, '--json'], { env });
    expect((JSON.parse(next.stdout) as Page).items.map((d) => d.serial)).toEqual([`${tag}-3`]);
  });

  it('devices get finds a terminal by serial and by id', async () => {
    const bySerial = await runCli(['devices', 'get', `${tag}-3`, '--json'], { env });
    expect(bySerial.code).toBe(0);
    const d: Page['items'][number] = JSON.parse(bySerial.stdout);
    expect(d).toMatchObject({ serial: `${tag}-3`, model: 'PAX-A80', status: 'registered' });
    const byId = await runCli(['devices', 'get', d.id], { env });
    expect(byId.code).toBe(0);
    expect(byId.stdout).toMatch(new RegExp(`^serial\\s+${tag}-3$`, 'm'));
    expect(byId.stdout).toMatch(/^online\s+false$/m);
  });

  it('an unknown terminal is the API error with its code, exit 3', async () => {
    const r = await runCli(['devices', 'get', 'dev_AAAAAAAAAAAAAAAA'], { env });
    expect(r.code).toBe(3);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim()).toMatch(/^error: not_found \(404\): .+/);
  });

  it('devices import reads a CSV file, a quoted label spanning lines included, and reports skipped rows', async () => {
    const file = join(dir, 'devices.csv');
    writeFileSync(file, `serial,model,site\n${tag}-10,PAX-A920,"Lyon\n2nd floor"\n${tag}-11,PAX-A920,berlin\n${tag}-1,PAX-A920,dup\n`);
    const r = await runCli(['devices', 'import', file], { env });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^created 2, skipped 1, errors 0$/m);
    expect(r.stdout).toContain(`skipped ${tag}-1`);
    const got = await runCli(['devices', 'get', `${tag}-10`, '--json'], { env });
    expect((JSON.parse(got.stdout) as Page['items'][number]).labels).toEqual({ site: 'Lyon\n2nd floor' });
    const json = await runCli(['devices', 'import', file, '--json'], { env });
    expect(JSON.parse(json.stdout)).toMatchObject({ created: 0, errors: [] });
  });

  it('devices list --label and --query filter through the fleet query language', async () => {
    const byLabel = await runCli(['devices', 'list', '--label', 'site=berlin', '--search', tag, '--json'], { env });
    expect(byLabel.stderr).toBe('');
    expect((JSON.parse(byLabel.stdout) as Page).items.map((d) => d.serial)).toEqual([`${tag}-11`]);
    const byQuery = await runCli(['devices', 'list', '--query', 'model = "PAX-A80"', '--search', tag, '--json'], { env });
    expect((JSON.parse(byQuery.stdout) as Page).items.map((d) => d.serial)).toEqual([`${tag}-3`]);
    const both = await runCli(['devices', 'list', '--query', 'model = "PAX-A80"', '--label', 'site=berlin', '--search', tag, '--json'], {
      env,
    });
    expect((JSON.parse(both.stdout) as Page).items).toEqual([]);
    const bad = await runCli(['devices', 'list', '--query', 'model ='], { env });
    expect(bad.code).toBe(3);
    expect(bad.stderr).toMatch(/^error: query_invalid \(400\): /);
  });

  it('devices export writes terminals to a file as CSV, or to stdout as NDJSON with the list filters', async () => {
    const csvFile = join(dir, 'out.csv');
    const r = await runCli(['devices', 'export', '-o', csvFile], { env });
    expect(r.code).toBe(0);
    const csv = readFileSync(csvFile, 'utf8');
    expect(csv.split('\n')[0]).toMatch(/serial/);
    for (const n of [1, 2, 3, 10, 11]) expect(csv).toContain(`${tag}-${n},`);
    const json = await runCli(['devices', 'export', '--format', 'json', '--search', tag], { env });
    expect(json.code).toBe(0);
    const rows: { serial: string }[] = json.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(rows.map((d) => d.serial).sort()).toEqual([1, 10, 11, 2, 3].map((n) => `${tag}-${n}`));
  });

  it('usage errors exit 2 and name the usage', async () => {
    const r = await runCli(['devices', 'list', '--bogus'], { env });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^usage: .*--bogus/);
    const unknown = await runCli(['devices', 'frobnicate'], { env });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown command "frobnicate"');
  });
});

describe('operator CLI without a server', () => {
  it('the bin runs from outside the clone (tsx registered next to it)', async () => {
    const elsewhere = scratchHome();
    const r = await runCli(['--help'], { binFrom: elsewhere, env: { HOME: elsewhere } });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^posfleet <command>/);
    const down = await runCli(['devices', 'list'], {
      binFrom: elsewhere,
      env: { HOME: elsewhere, POSFLEET_URL: 'http://127.0.0.1:9', POSFLEET_TOKEN: 'pf_x' },
    });
    expect(down.code).toBe(3);
    expect(down.stderr).toMatch(/^error: network: /);
  });

  it('an unreachable server is exit 3 with the network code', async () => {
    const r = await runCli(['devices', 'list'], {
      env: { HOME: scratchHome(), POSFLEET_URL: 'http://127.0.0.1:9', POSFLEET_TOKEN: 'pf_x' },
    });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/^error: network: The server at http:\/\/127\.0\.0\.1:9 cannot be reached\./);
  });
});
