// The organisation tree through the real server on both engines: nodes under nodes of the caller's
// subtree with their paths and depths, the subtree listed parent first and paged, member counts,
// renames, and what is refused (a parent outside the subtree: 404; a non-admin: 403), all audited.
import { beforeAll, expect, it } from 'vitest';
import { forEachServer } from '../helpers/testServer.ts';
import type { User } from '../merchants/helpers.ts';
import { createOrg, orgTerminal, orgUser, rootReviewer, type OrgView } from './helpers.ts';

interface Page<T> {
  items: T[];
  nextCursor: string | null;
}
interface AuditEntry {
  action: string;
  target: string | null;
  actorId: string | null;
  data: Record<string, unknown>;
}

forEachServer('organisation tree', (server) => {
  let reviewer: User;
  let acquirerAdmin: User;
  let acquirer: OrgView;

  beforeAll(async () => {
    const t = server();
    reviewer = await rootReviewer(t);
    acquirer = await createOrg(t, 'Acquirer');
    acquirerAdmin = await orgUser(t, 'admin', acquirer.id, reviewer);
  }, 120_000);

  it('the root is there from the migration, and a child’s path extends its parent’s', async () => {
    const t = server();
    const root = await t.api<OrgView>('GET', '/v1/orgs/org_root');
    expect(root.status).toBe(200);
    expect(root.body).toMatchObject({ id: 'org_root', parentId: null, name: 'Root', path: '/org_root/', depth: 0 });
    expect(acquirer).toMatchObject({ parentId: 'org_root', name: 'Acquirer', path: `/org_root/${acquirer.id}/`, depth: 1 });
    expect(acquirer.id).toMatch(/^org_[A-Za-z0-9_-]{16}$/);
    const agent = await createOrg(t, 'Agent', undefined, acquirerAdmin.token);
    const sub = await createOrg(t, 'Sub-agent', agent.id, acquirerAdmin.token);
    expect(sub).toMatchObject({ parentId: agent.id, depth: 3, path: `/org_root/${acquirer.id}/${agent.id}/${sub.id}/` });
  });

  it('lists the caller’s subtree parent first, page by page, with counts of each node’s own members', async () => {
    const t = server();
    const as = { token: acquirerAdmin.token };
    const a = await createOrg(t, 'Paged A', undefined, acquirerAdmin.token);
    const b = await createOrg(t, 'Paged B', a.id, acquirerAdmin.token);
    await orgTerminal(t, acquirerAdmin.token, b.id);
    await orgUser(t, 'operator', b.id, reviewer);

    const seen: OrgView[] = [];
    let cursor: string | null = null;
    do {
      const q: string = cursor ? `&cursor=${cursor}` : '';
      const page: Page<OrgView> = (await t.api<Page<OrgView>>('GET', `/v1/orgs?limit=2${q}`, undefined, as)).body;
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen[0]?.id).toBe(acquirer.id);
    expect(new Set(seen.map((o) => o.id)).size).toBe(seen.length);
    expect(seen.every((o) => o.path.startsWith(acquirer.path))).toBe(true);
    // Every node comes after its parent.
    const at = new Map(seen.map((o, i) => [o.id, i]));
    for (const o of seen) if (o.id !== acquirer.id) expect(at.get(o.parentId ?? '')).toBeLessThan(at.get(o.id) ?? -1);
    expect(seen.find((o) => o.id === b.id)?.counts).toEqual({ users: 1, merchants: 0, terminals: 1 });
    expect(seen.find((o) => o.id === a.id)?.counts).toEqual({ users: 0, merchants: 0, terminals: 0 });
    expect(seen.find((o) => o.id === acquirer.id)?.counts.users).toBe(1);

    const children = (await t.api<Page<OrgView>>('GET', `/v1/orgs?parentId=${a.id}`, undefined, as)).body.items;
    expect(children.map((o) => o.id)).toEqual([b.id]);
    expect((await t.api('GET', '/v1/orgs?cursor=bm90LW91cnM', undefined, as)).status).toBe(400);
  });

  it('renames a node and audits creations and renames naming the user', async () => {
    const t = server();
    const n = await createOrg(t, 'Old name', undefined, acquirerAdmin.token);
    const renamed = await t.api<OrgView>('PATCH', `/v1/orgs/${n.id}`, { name: 'New name' }, { token: acquirerAdmin.token });
    expect(renamed.status).toBe(200);
    expect(renamed.body).toMatchObject({ id: n.id, name: 'New name', path: n.path });
    const entries = (await t.api<Page<AuditEntry>>('GET', `/v1/audit?target=${n.id}&limit=10`)).body.items;
    expect(entries.map((e) => e.action).sort()).toEqual(['org.create', 'org.rename']);
    expect(entries.every((e) => e.actorId === acquirerAdmin.id)).toBe(true);
    expect(entries.find((e) => e.action === 'org.rename')?.data).toEqual({ from: 'Old name', to: 'New name' });
  });

  it('refuses a parent outside the subtree (404), a non-admin (403) and an empty name (400)', async () => {
    const t = server();
    const other = await createOrg(t, 'Elsewhere');
    const as = { token: acquirerAdmin.token };
    expect((await t.api('POST', '/v1/orgs', { name: 'x', parentId: other.id }, as)).status).toBe(404);
    expect((await t.api('POST', '/v1/orgs', { name: 'x', parentId: 'org_root' }, as)).status).toBe(404);
    expect((await t.api('PATCH', `/v1/orgs/${other.id}`, { name: 'mine now' }, as)).status).toBe(404);
    expect((await t.api('GET', `/v1/orgs/${other.id}`, undefined, as)).status).toBe(404);
    const operator = await orgUser(t, 'operator', acquirer.id, reviewer);
    expect((await t.api('POST', '/v1/orgs', { name: 'x' }, { token: operator.token })).status).toBe(403);
    expect((await t.api('POST', '/v1/orgs', { name: '  ' }, as)).status).toBe(400);
    expect((await t.api<OrgView>('GET', `/v1/orgs/${other.id}`)).body.name).toBe('Elsewhere');
  });
});
