// The authorization matrix (issue #16): every operation of the real server's /openapi.json, asked
// by every kind of caller (no token, an unknown token, malformed Authorization headers, each role),
// answers as its entry in server/auth/accessTable.ts says. An operation without an entry, or an
// entry without an operation, fails; so does docs/api.md saying other roles than the table.
// Path ids are made up (right prefix, no such record) and bodies are `{}`, so nothing is changed:
// the audit log after the run holds only the tokens the self-only route issued its callers.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { roles, type Role } from '../../schemas/db.ts';
import { accessTable, type Access } from '../../server/auth/accessTable.ts';
import { idPrefixes } from '../../server/core/ids.ts';
import { createApiClient, type Api } from '../helpers/apiClient.ts';
import { startTestServer, TEST_ADMIN_TOKEN, type TestServer } from '../helpers/testServer.ts';
import { describeCaller, expectedAnswer, malformedHeaders, mismatch, type Caller } from './accessExpectations.ts';
import { documentedRoutes, expandPath, parseRolesCell } from './documentedAccess.ts';

interface Operation {
  method: string;
  path: string;
}

interface AuditEntry {
  seq: number;
  action: string;
  actorId: string | null;
  target: string | null;
}

const table = new Map<string, Access>(Object.entries(accessTable));
const keyOf = (op: Operation) => `${op.method} ${op.path}`;
const CONCURRENCY = 16;
const MADE_UP = 'AuthzMatrix00000';

/** The record a path's `{id}` names, by the segment before it; a new resource must be added here. */
const idPrefixBySegment: Record<string, string> = {
  devices: idPrefixes.device,
  users: idPrefixes.user,
  'user-requests': idPrefixes.userRequest,
  merchants: idPrefixes.merchant,
  'rebind-requests': idPrefixes.rebindRequest,
  faults: idPrefixes.fault,
  firmware: idPrefixes.firmware,
  rollouts: idPrefixes.campaign,
  'key-rotations': idPrefixes.campaign,
  campaigns: idPrefixes.campaign,
  requests: idPrefixes.keyApproval,
  bdks: idPrefixes.bdk,
  'parameter-templates': idPrefixes.parameterTemplate,
  'parameter-pushes': idPrefixes.campaign,
  groups: idPrefixes.deviceGroup,
  filters: idPrefixes.savedFilter,
  'maintenance-windows': idPrefixes.maintenanceWindow,
  orgs: idPrefixes.organisation,
  apps: idPrefixes.appPackage,
  'app-deployments': idPrefixes.campaign,
};
const otherParams: Record<string, string> = {
  cmdId: `${idPrefixes.command}_${MADE_UP}`,
  batchId: `${idPrefixes.commandBatch}_${MADE_UP}`,
  bundleId: `${idPrefixes.logBundle}_${MADE_UP}`,
  hash: 'ab'.repeat(32),
  usage: 'TMK',
};

/** The path with made-up ids; a `self` route's `{id}` is the caller's own when `ownId` is given. */
function fillPath(path: string, ownId: string | undefined): string {
  const segments = path.split('/');
  return segments
    .map((segment, i) => {
      const name = /^\{(\w+)\}$/.exec(segment)?.[1];
      if (!name) return segment;
      if (name === 'id') {
        if (ownId) return ownId;
        const prefix = idPrefixBySegment[segments[i - 1] ?? ''];
        if (!prefix) throw new Error(`${path}: no made-up id for the {id} after "${segments[i - 1]}" (add its prefix)`);
        return `${prefix}_${MADE_UP}`;
      }
      const value = otherParams[name];
      if (!value) throw new Error(`${path}: no made-up value for {${name}} (add one)`);
      return value;
    })
    .join('/');
}

/** Runs `task` over `items`, at most `limit` at a time. */
async function boundedAll<T>(items: readonly T[], limit: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await task(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

describe('authorization matrix', () => {
  let t: TestServer;
  let api: Api;
  let operations: Operation[];
  const users = new Map<Role, { id: string; token: string }>();

  beforeAll(async () => {
    t = await startTestServer();
    // The live stream never ends: its status and headers are the answer, its body is dropped.
    api = createApiClient({
      baseUrl: () => t.url,
      send: async (url, init) => {
        const res = await fetch(url, init);
        if (!res.headers.get('content-type')?.startsWith('text/event-stream')) return res;
        await res.body?.cancel();
        return new Response(null, { status: res.status, headers: res.headers });
      },
    });
    for (const role of roles) {
      const created = await t.api<{ id: string; token: string }>('POST', '/v1/users', { name: `matrix-${role}`, role });
      expect(created.status, `create the ${role}`).toBe(201);
      users.set(role, created.body);
    }
    const doc = await api<{ paths: Record<string, Record<string, unknown>> }>('GET', '/openapi.json');
    expect(doc.status).toBe(200);
    operations = Object.entries(doc.body.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => ({ method: m.toUpperCase(), path })));
  }, 60_000);
  afterAll(() => t?.stop());

  it('has an entry for every operation of /openapi.json, and none for an operation that is not there', () => {
    expect(operations.length).toBeGreaterThan(100);
    const documented = new Set(operations.map(keyOf));
    expect(
      operations.map(keyOf).filter((k) => !table.has(k)),
      'operations without an entry in server/auth/accessTable.ts',
    ).toEqual([]);
    expect(
      [...table.keys()].filter((k) => !documented.has(k)),
      'entries of server/auth/accessTable.ts without an operation',
    ).toEqual([]);
  });

  it('answers every operation, for every caller, as its entry says', { timeout: 60_000 }, async () => {
    const user = (role: Role) => users.get(role)!;
    const callers: Caller[] = [
      { kind: 'no token' },
      { kind: 'unknown token' },
      ...malformedHeaders(TEST_ADMIN_TOKEN).map((header): Caller => ({ kind: 'malformed', header })),
      ...roles.map((role): Caller => ({ kind: 'role', role })),
    ];
    const failures: string[] = [];
    const cases = operations.flatMap((op) => {
      const access = table.get(keyOf(op));
      if (!access) {
        failures.push(`${keyOf(op)}: no entry, so no expectation`);
        return [];
      }
      const extra = access.scope === 'self' ? roles.map((role): Caller => ({ kind: 'role, another user', role })) : [];
      return [...callers, ...extra].map((caller) => ({ op, access, caller }));
    });
    await boundedAll(cases, CONCURRENCY, async ({ op, access, caller }) => {
      const ownId = caller.kind === 'role' && access.scope === 'self' ? user(caller.role).id : undefined;
      const token =
        caller.kind === 'role' || caller.kind === 'role, another user'
          ? user(caller.role).token
          : caller.kind === 'unknown token'
            ? `pf_${'u'.repeat(43)}`
            : null;
      const headers: Record<string, string> = caller.kind === 'malformed' ? { authorization: caller.header } : {};
      const answer = await api(op.method, fillPath(op.path, ownId), op.method === 'GET' ? undefined : {}, { token, headers });
      const wrong = mismatch(expectedAnswer(access, caller), answer);
      if (wrong) failures.push(`${keyOf(op)} as ${describeCaller(caller)}: ${wrong}`);
    });
    expect(failures.sort()).toEqual([]);
  });

  it('changed nothing: the only entries the run added to the audit log are the tokens callers issued themselves', async () => {
    const log = await t.api<{ items: AuditEntry[] }>('GET', '/v1/audit?limit=500');
    expect(log.status).toBe(200);
    const created = log.body.items.filter((e) => e.action === 'user.create');
    const since = Math.max(...created.map((e) => e.seq));
    // An export is a read the log records (docs/exports.md#audit), not a change.
    const added = log.body.items.filter((e) => e.seq > since && !e.action.startsWith('export.')).map((e) => ({ action: e.action, self: e.actorId === e.target }));
    const selfRoutes = [...table.values()].filter((a) => a.scope === 'self').length;
    expect(added).toEqual(Array.from({ length: roles.length * selfRoutes }, () => ({ action: 'user.token.issue', self: true })));
  });
});

describe('docs/api.md', () => {
  const docs = documentedRoutes(readFileSync(new URL('../../docs/api.md', import.meta.url), 'utf8'));
  /** Routes the page lists that are not operations of /openapi.json, so not in the table. */
  const outsideTheDocument = new Set(['GET /openapi.json', 'GET /docs', 'GET /', 'GET /ui/*']);
  const norm = (a: Access) => ({
    roles: a.roles === 'public' ? 'public' : [...a.roles].sort(),
    credentials: [...(a.credentials ?? [])].sort(),
    scope: a.scope ?? null,
  });

  it('reads the abbreviated paths and roles of the endpoint table', () => {
    expect(expandPath('/v1/faults/{id}/acknowledge', '…/resolve')).toBe('/v1/faults/{id}/resolve');
    expect(expandPath('/v1/key-rotations', '…/{id}/devices')).toBe('/v1/key-rotations/{id}/devices');
    expect(expandPath('/v1/devices/{id}/binding', '…/binding/history')).toBe('/v1/devices/{id}/binding/history');
    expect(parseRolesCell('all (own id only)')).toEqual({ roles: [...roles], scope: 'self' });
    expect(parseRolesCell('admin (not the requester)')).toEqual({ roles: ['admin'] });
    expect(parseRolesCell('signed link, device Basic, or admin/operator/technician token')).toEqual({
      roles: ['admin', 'operator', 'technician'],
      credentials: ['deviceBasic', 'signedLink'],
    });
    expect(parseRolesCell('none (enrollment token)')).toEqual({ roles: 'public', credentials: ['enrollToken'] });
  });

  it('lists every operation of the table, each once, with the roles and credentials of its entry', () => {
    const listed = docs.map((d) => `${d.method} ${d.path}`).filter((k) => !outsideTheDocument.has(k));
    expect(
      listed.filter((k, i) => listed.indexOf(k) !== i),
      'listed twice',
    ).toEqual([]);
    expect(
      [...table.keys()].filter((k) => !listed.includes(k)),
      'in the table, not in docs/api.md',
    ).toEqual([]);
    const differing = docs
      .filter((d) => !outsideTheDocument.has(`${d.method} ${d.path}`))
      .map((d) => ({ route: `${d.method} ${d.path}`, docs: norm(d.access), table: table.get(`${d.method} ${d.path}`) }))
      .filter((d) => !d.table || JSON.stringify(d.docs) !== JSON.stringify(norm(d.table)));
    expect(differing, 'docs/api.md says otherwise than server/auth/accessTable.ts').toEqual([]);
  });
});
