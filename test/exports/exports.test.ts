// The exports end to end on both engines: each route's CSV (header, columns, values read back by
// csv-parse) and NDJSON, the list filters, the key inventory without key material, a campaign's
// per-terminal errors with serials, the audit log verified offline from the export, organisation
// scope, and the audit entry every export leaves.
import { parse } from 'csv-parse/sync';
import { eq } from 'drizzle-orm';
import { beforeAll, expect, it } from 'vitest';
import { campaignSpec } from '../../schemas/campaigns.ts';
import { devices, organisations, users } from '../../schemas/db.ts';
import { campaignDevices, campaigns } from '../../schemas/tables/campaigns.ts';
import { faults } from '../../schemas/tables/faults.ts';
import { keys } from '../../schemas/tables/keys.ts';
import { computeAuditHash, GENESIS_HASH } from '../../server/audit/auditLog.ts';
import { columnsOf, deviceExportRow, faultExportRow, keyExportRow } from '../../server/exports/rowSchemas.ts';
import { eventually } from '../helpers/eventually.ts';
import { emptyServer, forEachServer, type TestServer } from '../helpers/testServer.ts';

const SEALED = 'U0VBTEVELUtFWS1NQVRFUklBTC1ORVZFUi1FWFBPUlRFRA==';

interface AuditEntry {
  seq: number;
  action: string;
  actorId: string | null;
  data: Record<string, unknown>;
}

forEachServer('exports', (server) => {
  let t: TestServer;
  let token: string;
  const ids: Record<string, string> = {};

  const api = <T>(method: string, path: string, body?: unknown) => t.api<T>(method, path, body, { token });
  const get = (path: string, as = token) => fetch(`${t.url}${path}`, { headers: { authorization: `Bearer ${as}` } });
  const csv = async (path: string, as = token) => {
    const res = await get(path, as);
    expect(res.status, await res.clone().text()).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    const rows: string[][] = parse(await res.text());
    return { header: rows[0]!, rows: rows.slice(1) };
  };
  const ndjson = async (path: string, as = token) => {
    const res = await get(path, as);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/x-ndjson');
    const text = await res.text();
    return text === ''
      ? []
      : text
          .trimEnd()
          .split('\n')
          .map((l): Record<string, unknown> => JSON.parse(l));
  };

  beforeAll(async () => {
    t = server();
    token = await emptyServer(t);
    for (const [serial, model, labels] of [
      ['EXP-1', 'PAX-A920', { store: 'north', note: '=HYPERLINK("x")' }],
      ['EXP-2', 'PAX-A920', { store: 'south' }],
      ['EXP-3', 'Move 5000', { store: 'multi\nline, "quoted"' }],
    ] as const) {
      const r = await api<{ id: string }>('POST', '/v1/devices', { serial, model, labels });
      expect(r.status).toBe(201);
      ids[serial] = r.body.id;
    }
    const db = t.server.parts.db;
    const now = new Date();
    await db.insert(faults).values([
      {
        id: 'flt_exp1',
        deviceId: ids['EXP-1']!,
        code: 'battery_low',
        title: 'Battery low',
        severity: 'warning',
        severityRank: 1,
        openedAt: now,
      },
      {
        id: 'flt_exp2',
        deviceId: ids['EXP-1']!,
        code: 'printer_jam',
        title: 'Printer jam',
        severity: 'major',
        severityRank: 2,
        openedAt: now,
        state: 'resolved',
        resolvedAt: now,
      },
      { id: 'flt_exp3', deviceId: ids['EXP-3']!, code: 'tamper', title: 'Tamper', severity: 'critical', severityRank: 3, openedAt: now },
    ]);
    await db.insert(keys).values([
      {
        id: 'key_exp1',
        deviceId: ids['EXP-1']!,
        usage: 'TMK',
        slot: 'tmk',
        version: 1,
        state: 'superseded',
        kcv: 'cmac:111111',
        sealed: SEALED,
        masterGen: 1,
      },
      {
        id: 'key_exp2',
        deviceId: ids['EXP-1']!,
        usage: 'TMK',
        slot: 'tmk',
        version: 2,
        state: 'installed',
        kcv: 'cmac:222222',
        sealed: SEALED,
        masterGen: 1,
        installedAt: now,
      },
      {
        id: 'key_exp3',
        deviceId: ids['EXP-2']!,
        usage: 'TPK',
        slot: 'pin',
        version: 4,
        state: 'installed',
        kcv: 'cmac:333333',
        sealed: SEALED,
        masterGen: 1,
        installedAt: now,
      },
    ]);
  });

  it('exports terminals as CSV with the documented columns, values and open faults, key versions and labels', async () => {
    const { header, rows } = await csv('/v1/exports/devices');
    expect(header).toEqual(columnsOf(deviceExportRow));
    expect(rows).toHaveLength(3);
    const bySerial = new Map(rows.map((r) => [r[header.indexOf('serial')]!, Object.fromEntries(header.map((h, i) => [h, r[i]!]))]));
    const one = bySerial.get('EXP-1')!;
    expect(one).toMatchObject({
      id: ids['EXP-1'],
      model: 'PAX-A920',
      status: 'registered',
      orgId: 'org_root',
      orgName: 'Root',
      online: 'false',
      merchantId: '',
      openFaults: '1',
    });
    // Objects are their JSON text in a cell (which starts with `{`, so a formula inside stays text).
    expect(JSON.parse(one.labels!)).toEqual({ store: 'north', note: '=HYPERLINK("x")' });
    expect(JSON.parse(one.keyVersions!)).toEqual({ tmk: 2 });
    expect(JSON.parse(bySerial.get('EXP-2')!.keyVersions!)).toEqual({ pin: 4 });
    expect(JSON.parse(bySerial.get('EXP-3')!.labels!)).toEqual({ store: 'multi\nline, "quoted"' });
    expect(bySerial.get('EXP-3')!.openFaults).toBe('1');
  });

  it('carries the parameter set a terminal reported and whether its drift alert is open', async () => {
    const db = t.server.parts.db;
    await db.insert(faults).values({
      id: 'flt_expd',
      deviceId: ids['EXP-2']!,
      code: 'parameters_drift',
      title: 'Parameters drift',
      severity: 'warning',
      severityRank: 1,
      openedAt: new Date(),
    });
    const rows = await ndjson('/v1/exports/devices?format=json');
    expect(rows.find((r) => r.serial === 'EXP-2')).toMatchObject({
      parametersDrift: true,
      parametersTemplateId: null,
      parametersVersion: null,
    });
    expect(rows.find((r) => r.serial === 'EXP-1')).toMatchObject({ parametersDrift: false });
    await db.delete(faults).where(eq(faults.id, 'flt_expd'));
  });

  it('describes every export in /openapi.json: both media types and the row schema with the columns in order', async () => {
    interface Doc {
      paths: Record<string, { get?: { responses: Record<string, { content?: Record<string, unknown> }> } }>;
      components: { schemas: Record<string, { properties?: Record<string, unknown> }> };
    }
    const doc = (await (await fetch(`${t.url}/openapi.json`)).json()) as Doc;
    for (const path of ['devices', 'faults', 'keys', 'campaigns/{id}/devices', 'audit']) {
      const content = doc.paths[`/v1/exports/${path}`]?.get?.responses['200']?.content ?? {};
      expect(Object.keys(content).sort(), path).toEqual(['application/x-ndjson', 'text/csv']);
    }
    expect(Object.keys(doc.components.schemas.DeviceExportRow?.properties ?? {})).toEqual(columnsOf(deviceExportRow));
    expect(Object.keys(doc.components.schemas.KeyExportRow?.properties ?? {})).toEqual(columnsOf(keyExportRow));
  });

  it('defuses spreadsheet formulas in text cells but leaves numbers alone', async () => {
    await api('POST', '/v1/devices', { serial: 'EXP-F', model: 'PAX-A920', labels: {} });
    await t.server.parts.db.update(devices).set({ model: '=cmd' }).where(eq(devices.serial, 'EXP-F'));
    const { header, rows } = await csv('/v1/exports/devices?q=EXP-F');
    expect(rows).toHaveLength(1);
    expect(rows[0]![header.indexOf('model')]).toBe("'=cmd");
    await t.server.parts.db.delete(devices).where(eq(devices.serial, 'EXP-F'));
  });

  it('takes the list filters and streams NDJSON with typed values', async () => {
    const a920 = await ndjson('/v1/exports/devices?format=json&model=PAX-A920');
    expect(a920.map((r) => r.serial).sort()).toEqual(['EXP-1', 'EXP-2']);
    expect(a920.find((r) => r.serial === 'EXP-1')).toMatchObject({
      online: false,
      openFaults: 1,
      keyVersions: { tmk: 2 },
      labels: { store: 'north' },
      batteryLevel: null,
    });
    expect(deviceExportRow.array().safeParse(a920).success).toBe(true);
    expect(await ndjson('/v1/exports/devices?format=json&status=revoked')).toEqual([]);
    // A fleet query (server/groups), as GET /v1/devices?query= takes it; one that does not parse is a 400 before any byte.
    const query = encodeURIComponent('model = "PAX-A920" and label.store = "north"');
    expect((await ndjson(`/v1/exports/devices?format=json&query=${query}`)).map((r) => r.serial)).toEqual(['EXP-1']);
    const unparsable = await get(`/v1/exports/devices?query=${encodeURIComponent('model = ')}`);
    expect(unparsable.status).toBe(400);
    expect(((await unparsable.json()) as { error: { code: string } }).error.code).toBe('query_invalid');
    // No rows: the CSV is its header alone.
    const none = await csv('/v1/exports/devices?q=nothing-matches');
    expect(none).toEqual({ header: columnsOf(deviceExportRow), rows: [] });
    const bad = await get('/v1/exports/devices?format=xml');
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { code: string } }).error.code).toBe('validation_failed');
  });

  it('round-trips CSV: an import with a quoted field spanning lines comes back out of the export unchanged', async () => {
    const file = 'serial,model,note\r\nEXP-R1,PAX-A920,"back office,\r\nshelf ""B"""\r\nbad serial,PAX-A920,x\r\n';
    const imported = await t.api<{ created: number; errors: { line: number; message: string }[] }>(
      'POST',
      '/v1/devices/import',
      undefined,
      {
        token,
        raw: file,
        headers: { 'content-type': 'text/csv' },
      },
    );
    expect(imported.status).toBe(200);
    expect(imported.body.created).toBe(1);
    // The error names the line of the file it is on, after the two lines of the quoted field.
    expect(imported.body.errors).toEqual([{ line: 4, message: 'bad serial "bad serial"' }]);
    const { header, rows } = await csv('/v1/exports/devices?q=EXP-R1');
    expect(JSON.parse(rows[0]![header.indexOf('labels')]!)).toEqual({ note: 'back office,\r\nshelf "B"' });
    await t.server.parts.db.delete(devices).where(eq(devices.serial, 'EXP-R1'));
  });

  it('exports faults with the queue filters: unresolved by default, all states on request', async () => {
    const open = await csv('/v1/exports/faults');
    expect(open.header).toEqual(columnsOf(faultExportRow));
    expect(open.rows.map((r) => r[0]).sort()).toEqual(['flt_exp1', 'flt_exp3']);
    const all = await ndjson('/v1/exports/faults?format=json&state=all');
    expect(all.map((r) => r.id).sort()).toEqual(['flt_exp1', 'flt_exp2', 'flt_exp3']);
    expect(all.find((r) => r.id === 'flt_exp3')).toMatchObject({ serial: 'EXP-3', code: 'tamper', severity: 'critical', state: 'open' });
    const critical = await ndjson('/v1/exports/faults?format=json&severity=critical,major&state=all');
    expect(critical.map((r) => r.id).sort()).toEqual(['flt_exp2', 'flt_exp3']);
    expect((await ndjson(`/v1/exports/faults?format=json&deviceId=${ids['EXP-3']}`)).map((r) => r.id)).toEqual(['flt_exp3']);
  });

  it('exports the key inventory by KCV and version, with no key material in any form', async () => {
    const res = await get('/v1/exports/keys');
    const text = await res.text();
    expect(text).not.toContain(SEALED);
    expect(text).not.toContain('sealed');
    const rows: string[][] = parse(text);
    expect(rows[0]).toEqual(columnsOf(keyExportRow));
    expect(rows.slice(1).map((r) => [r[0], r[rows[0]!.indexOf('kcv')], r[rows[0]!.indexOf('version')]])).toEqual([
      ['key_exp1', 'cmac:111111', '1'],
      ['key_exp2', 'cmac:222222', '2'],
      ['key_exp3', 'cmac:333333', '4'],
    ]);
    const json = await ndjson('/v1/exports/keys?format=json&state=installed&usage=TPK');
    expect(json).toEqual([
      expect.objectContaining({ id: 'key_exp3', serial: 'EXP-2', slot: 'pin', state: 'installed', kcv: 'cmac:333333' }),
    ]);
    for (const row of json) expect(Object.keys(row).sort()).toEqual(columnsOf(keyExportRow).sort());
  });

  it("filters the key inventory by its terminals as the console's inventory does: serial text and a fleet query", async () => {
    expect((await ndjson('/v1/exports/keys?format=json&q=EXP-2')).map((r) => r.id)).toEqual(['key_exp3']);
    // Every key of the terminals that match, superseded ones too: EXP-1 holds TMK v2 installed.
    const query = encodeURIComponent('keyVersion.tmk = 2');
    expect((await ndjson(`/v1/exports/keys?format=json&query=${query}`)).map((r) => r.id)).toEqual(['key_exp1', 'key_exp2']);
    // A field only device_state holds (presence), which the key export joins for it.
    const offline = encodeURIComponent('not online');
    expect((await ndjson(`/v1/exports/keys?format=json&query=${offline}`)).map((r) => r.id)).toEqual(['key_exp1', 'key_exp2', 'key_exp3']);
    const unparsable = await get(`/v1/exports/keys?query=${encodeURIComponent('keyVersion.tmk = ')}`);
    expect(unparsable.status).toBe(400);
    expect(((await unparsable.json()) as { error: { code: string } }).error.code).toBe('query_invalid');
  });

  it("exports a campaign's members with state, error code and message and serial; an unknown campaign is 404", async () => {
    const db = t.server.parts.db;
    const target = [ids['EXP-1']!, ids['EXP-2']!, ids['EXP-3']!];
    const spec = campaignSpec.parse({
      target: { deviceIds: target },
      phases: [{ name: 'all', percent: 100 }],
      successThreshold: 100,
      errorThreshold: 100,
    });
    await db
      .insert(campaigns)
      .values({ id: 'cmp_exp1', kind: 'ota', lane: 'firmware', name: 'export test', state: 'failed', params: {}, spec, seed: 's' });
    await db.insert(campaignDevices).values([
      { campaignId: 'cmp_exp1', deviceId: target[0]!, lane: 'firmware', phase: 0, rank: 0.1, state: 'succeeded', active: false },
      {
        campaignId: 'cmp_exp1',
        deviceId: target[1]!,
        lane: 'firmware',
        phase: 0,
        rank: 0.2,
        state: 'failed',
        active: false,
        error: { code: 'signature_invalid', message: 'manifest signature does not verify' },
      },
      {
        campaignId: 'cmp_exp1',
        deviceId: target[2]!,
        lane: 'firmware',
        phase: 0,
        rank: 0.3,
        state: 'failed',
        active: false,
        error: { code: 'low_battery', message: 'battery at 4 %' },
      },
    ]);
    const { header, rows } = await csv('/v1/exports/campaigns/cmp_exp1/devices?state=failed');
    const cols = (r: string[]) => ['serial', 'state', 'errorCode', 'errorMessage'].map((c) => r[header.indexOf(c)]);
    expect(rows.map(cols).sort()).toEqual([
      ['EXP-2', 'failed', 'signature_invalid', 'manifest signature does not verify'],
      ['EXP-3', 'failed', 'low_battery', 'battery at 4 %'],
    ]);
    expect((await ndjson('/v1/exports/campaigns/cmp_exp1/devices?format=json')).length).toBe(3);
    expect((await ndjson('/v1/exports/campaigns/cmp_exp1/devices?format=json&errorCode=low_battery')).map((r) => r.serial)).toEqual([
      'EXP-3',
    ]);
    const unknown = await get('/v1/exports/campaigns/cmp_nope/devices');
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { error: { code: string } }).error.code).toBe('not_found');
  });

  it('exports the audit log oldest first with the fields its hash covers: the chain verifies offline', async () => {
    const { header, rows } = await csv('/v1/exports/audit');
    expect(header).toEqual(['seq', 'ts', 'actorId', 'actorName', 'action', 'target', 'ip', 'data', 'prevHash', 'hash']);
    expect(rows.length).toBeGreaterThan(3);
    let prev = GENESIS_HASH;
    rows.forEach((r, i) => {
      const e = Object.fromEntries(header.map((h, col) => [h, r[col]!]));
      const nullable = (v: string) => (v === '' ? null : v);
      const fields = {
        seq: Number(e.seq),
        ts: new Date(e.ts!),
        actorId: nullable(e.actorId!),
        actorName: nullable(e.actorName!),
        action: e.action!,
        target: nullable(e.target!),
        ip: nullable(e.ip!),
        data: JSON.parse(e.data!) as Record<string, unknown>,
      };
      expect(fields.seq).toBe(i + 1);
      expect(e.prevHash).toBe(prev);
      expect(computeAuditHash(e.prevHash!, fields)).toBe(e.hash);
      prev = e.hash!;
    });
    const registered = await ndjson('/v1/exports/audit?format=json&action=device.register');
    expect(registered.map((r) => r.target)).toEqual([ids['EXP-1'], ids['EXP-2'], ids['EXP-3'], expect.any(String)]);
  });

  it('audits every export with who, what, the filters and the row count', async () => {
    await csv('/v1/exports/faults?severity=critical&model=Move%205000');
    const entry = await eventually(
      async () => {
        const page = await api<{ items: AuditEntry[] }>('GET', '/v1/audit?action=export.faults&limit=1');
        const e = page.body.items[0];
        return e && JSON.stringify(e.data.filters).includes('Move 5000') ? e : undefined;
      },
      { what: 'the audit entry of this export' },
    );
    expect(entry.data).toEqual({ format: 'csv', filters: { severity: ['critical'], model: 'Move 5000' }, rows: 1, complete: true });
    expect(entry.actorId).not.toBeNull();
  });

  it('keeps an agent to its own subtree: other terminals, their faults, keys and members never appear', async () => {
    const db = t.server.parts.db;
    await db.insert(organisations).values({ id: 'org_expa', parentId: 'org_root', name: 'Agent A', path: '/org_root/org_expa/' });
    await db.update(devices).set({ orgId: 'org_expa' }).where(eq(devices.id, ids['EXP-3']!));
    const made = await api<{ id: string; token: string }>('POST', '/v1/users', { name: 'agent-a-auditor', role: 'auditor' });
    expect(made.status).toBe(201);
    // Moved before the token is first used: the server reads the user's node with the token.
    await db.update(users).set({ orgId: 'org_expa' }).where(eq(users.id, made.body.id));
    const agent = made.body.token;
    expect((await ndjson('/v1/exports/devices?format=json', agent)).map((r) => r.serial)).toEqual(['EXP-3']);
    expect((await ndjson('/v1/exports/faults?format=json&state=all', agent)).map((r) => r.id)).toEqual(['flt_exp3']);
    expect(await ndjson('/v1/exports/keys?format=json', agent)).toEqual([]);
    expect((await ndjson('/v1/exports/campaigns/cmp_exp1/devices?format=json', agent)).map((r) => r.serial)).toEqual(['EXP-3']);
    // The audit log of the subtree: entries of its own users only (its exports so far).
    const audit = await ndjson('/v1/exports/audit?format=json', agent);
    expect(audit.length).toBeGreaterThan(0);
    expect(audit.every((r) => r.actorId === made.body.id)).toBe(true);
    // A campaign with neither its creator nor a member in the subtree is not found.
    await db.update(devices).set({ orgId: 'org_root' }).where(eq(devices.id, ids['EXP-3']!));
    expect((await get('/v1/exports/campaigns/cmp_exp1/devices', agent)).status).toBe(404);
  });
});
