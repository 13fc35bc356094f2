// The streamed exports from the CLI against a real server (PGlite, as every CLI suite): the audit
// log as CSV into a file (header in the row schema's order), the fault queue as NDJSON filtered
// by serial, the key inventory and a draft campaign's results (header only), and the refusals: a
// bad --format (exit 2) and an unknown campaign (the API's not_found, exit 3).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { auditExportRow, faultExportRow, keyExportRow } from '../../server/exports/rowSchemas.ts';
import { onDefaultServer, TEST_ADMIN_TOKEN } from '../helpers/testServer.ts';
import { runCli, scratchHome } from './runCli.ts';

onDefaultServer('operator CLI: exports', (server) => {
  let dir = '';
  let env: Record<string, string> = {};
  const serials = ['EXPCLI-ALPHA-1', 'EXPCLI-BETA-2'];
  beforeAll(async () => {
    const t = server();
    dir = mkdtempSync(join(tmpdir(), 'posfleet-cli-exports-'));
    env = { HOME: scratchHome(), POSFLEET_URL: t.url, POSFLEET_TOKEN: TEST_ADMIN_TOKEN };
    for (const [i, serial] of serials.entries()) {
      const d = await t.api<{ id: string }>('POST', '/v1/devices', { serial, model: 'PAX-A920' });
      expect(d.status, d.text).toBe(201);
      // Faults are opened by rules on telemetry; these are laid directly as a rule would.
      await t.server.parts.db.execute(
        sql`insert into faults (id, device_id, code, title, severity, severity_rank, state, opened_at) values (${`flt_ExpCli${i}0000000000`}, ${d.body.id}, 'paper_out', 'Paper out', 'warning', 1, 'open', now())`,
      );
    }
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('writes the audit log as CSV to a file, its header the row schema in order', async () => {
    const file = join(dir, 'audit.csv');
    const r = await runCli(['exports', 'audit', '-o', file, '--action', 'device.register'], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`written to ${file}`);
    const lines = readFileSync(file, 'utf8').trim().split(/\r?\n/);
    expect(lines[0]).toBe(Object.keys(auditExportRow.shape).join(','));
    expect(lines.length).toBe(1 + serials.length);
    for (const l of lines.slice(1)) expect(l).toContain('device.register');
  });

  it('streams the fault queue as NDJSON filtered by serial, and an empty key inventory as its header', async () => {
    const faults = await runCli(['exports', 'faults', '--format', 'json', '--serial', 'alpha'], { env });
    expect(faults.code, faults.stderr).toBe(0);
    const rows = faults.stdout
      .trim()
      .split('\n')
      .map((l) => faultExportRow.parse(JSON.parse(l)));
    expect(rows.map((f) => [f.serial, f.code])).toEqual([[serials[0], 'paper_out']]);
    const keys = await runCli(['exports', 'keys'], { env });
    expect(keys.code, keys.stderr).toBe(0);
    expect(keys.stdout.trim()).toBe(Object.keys(keyExportRow.shape).join(','));
  });

  it('passes --q and --query of the key inventory to the API, which refuses a query that does not parse', async () => {
    const bySerial = await runCli(['exports', 'keys', '--q', 'alpha', '--query', 'model = "PAX-A920"'], { env });
    expect(bySerial.code, bySerial.stderr).toBe(0);
    expect(bySerial.stdout.trim()).toBe(Object.keys(keyExportRow.shape).join(','));
    const bad = await runCli(['exports', 'keys', '--query', 'model = = ('], { env });
    expect(bad.code).toBe(3);
    expect(bad.stderr).toMatch(/^error: query_invalid \(400\): /);
  });

  it('refuses a bad format before asking, and names the API code of an unknown campaign', async () => {
    const format = await runCli(['exports', 'faults', '--format', 'xml'], { env });
    expect(format.code).toBe(2);
    expect(format.stderr).toContain('--format is csv or json');
    const missing = await runCli(['exports', 'campaign', 'cmp_AAAAAAAAAAAAAAAA'], { env });
    expect(missing.code).toBe(3);
    expect(missing.stderr).toMatch(/^error: not_found \(404\): /);
  });
});
