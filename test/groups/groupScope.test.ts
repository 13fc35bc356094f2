// Queries, labels and groups stay inside the caller's organisation subtree, on every engine: agent
// B's preview, labels by query and command batches by query see only B's terminals; B cannot put
// A's terminal in a group or label it by id (unknown, as a missing id); the root sees both.
import { beforeAll, expect, it } from 'vitest';
import { forEachServer } from '../helpers/testServer.ts';
import { agent, rootReviewer, type Agent } from '../orgs/helpers.ts';

interface ErrorBody {
  error: { code: string };
}

forEachServer('fleet queries within a subtree', (server) => {
  let a: Agent;
  let b: Agent;
  const all = 'model = "PAX-A920"';

  beforeAll(async () => {
    const t = server();
    const reviewer = await rootReviewer(t);
    a = await agent(t, 'Query A', reviewer);
    b = await agent(t, 'Query B', reviewer);
  }, 120_000);

  it('previews, labels and sends by query only within the caller’s subtree', async () => {
    const t = server();
    const asB = { token: b.operator.token };
    const preview = await t.api<{ count: number; sample: { id: string }[] }>('POST', '/v1/filters/preview', { query: all }, asB);
    expect(preview.status, preview.text).toBe(200);
    expect(preview.body.sample.map((d) => d.id).sort()).toEqual(b.terminals.map((d) => d.id).sort());
    expect(preview.body.count).toBe(b.terminals.length);

    const labelled = await t.api<{ matched: number }>('POST', '/v1/devices/labels', { target: { query: all }, set: { owner: 'b' } }, asB);
    expect(labelled.body.matched).toBe(b.terminals.length);
    const aLabels = await t.api<{ labels: Record<string, string> }>('GET', `/v1/devices/${a.terminals[0]!.id}`);
    expect(aLabels.body.labels.owner).toBeUndefined();

    const batch = await t.api<{ total: number }>('POST', '/v1/commands', { target: { query: all }, type: 'config.set', payload: { healthIntervalS: 300 } }, asB);
    expect(batch.status, batch.text).toBe(201);
    expect(batch.body.total).toBe(b.terminals.length);

    const root = await t.api<{ count: number }>('POST', '/v1/filters/preview', { query: 'label.owner = "b"' });
    expect(root.body.count).toBe(b.terminals.length);
    const rootAll = await t.api<{ count: number }>('POST', '/v1/filters/preview', { query: `org = "${a.org.id}" or org = "${b.org.id}"` });
    expect(rootAll.body.count).toBe(a.terminals.length + b.terminals.length);
  });

  it('treats another subtree’s terminals as unknown in groups and labels by id', async () => {
    const t = server();
    const asB = { token: b.operator.token };
    const g = await t.api<{ id: string }>('POST', '/v1/groups', { name: 'B only' }, asB);
    const add = await t.api<ErrorBody>('POST', `/v1/groups/${g.body.id}/members`, { add: [a.terminals[0]!.id] }, asB);
    expect(add.status).toBe(400);
    expect(add.body.error.code).toBe('unknown_devices');
    const label = await t.api<ErrorBody>('POST', '/v1/devices/labels', { target: { deviceIds: [a.terminals[0]!.id] }, set: { x: 'y' } }, asB);
    expect(label.body.error.code).toBe('unknown_devices');
    const groupOfB = await t.api<ErrorBody>('POST', '/v1/commands', { target: { groupId: g.body.id }, type: 'config.set', payload: { healthIntervalS: 300 } }, { token: a.operator.token });
    expect(groupOfB.status).toBe(422);
    expect(groupOfB.body.error.code).toBe('unknown_group');
  });
});
