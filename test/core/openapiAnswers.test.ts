// The OpenAPI document is meant to be enough to write a client (issue #11 item 8, found by writing
// a terminal agent and an admin client in Python from docs/ and /openapi.json alone): every 2xx
// answer of these operations names a schema with its fields, not an empty object.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerAndEnroll } from '../helpers/devices.ts';
import { startTestServer, type TestServer } from '../helpers/testServer.ts';
import { activeMerchant, createUser, uniqueTid } from '../merchants/helpers.ts';

interface Schema {
  $ref?: string;
  type?: string | string[];
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  enum?: string[];
  anyOf?: Schema[];
  allOf?: Schema[];
}
interface Operation {
  responses: Record<string, { content?: Record<string, { schema: Schema }> }>;
  requestBody?: { content: Record<string, { schema: Schema }> };
}
interface OpenApiDoc {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Schema> };
}

/** Each operation, and fields its 2xx answer must describe (beyond having any). */
const operations: [method: string, path: string, fields: string[]][] = [
  ['post', '/v1/merchants', ['id', 'mid', 'address', 'location', 'status', 'policy', 'createdAt']],
  ['post', '/v1/merchants/{id}/approve', ['status', 'reviewedBy', 'reviewedAt']],
  ['put', '/v1/devices/{id}/binding', ['id', 'tid', 'epoch', 'commandId']],
  ['get', '/v1/devices/{id}/binding', ['bound', 'binding', 'merchant', 'lock', 'relocation', 'pendingRebindRequest']],
  ['post', '/v1/rebind-requests/{id}/approve', ['request', 'binding', 'commands']],
  ['get', '/v1/devices/{id}/keys', ['deviceId', 'slots', 'history']],
  ['post', '/v1/devices/{id}/keys/report', ['commandId']],
  ['post', '/v1/card-blacklist', ['cardHash', 'added']],
  ['post', '/v1/key-rotations', ['id', 'state', 'usages', 'phases', 'counts']],
  ['post', '/v1/key-rotations/{id}/start', ['id', 'state', 'phases']],
  ['get', '/v1/key-rotations/{id}', ['state', 'phases', 'counts', 'reverting']],
  ['get', '/v1/key-rotations/{id}/devices', ['items', 'nextCursor']],
  ['post', '/v1/rollouts', ['id', 'state', 'firmwareId', 'mode', 'target', 'dynamic', 'phases']],
  ['get', '/v1/rollouts/{id}/devices', ['items', 'nextCursor']],
];

describe('OpenAPI answers', () => {
  let t: TestServer;
  let doc: OpenApiDoc;
  const resolve = (s: Schema): Schema => (s.$ref ? resolve(doc.components.schemas[s.$ref.replace('#/components/schemas/', '')]!) : s);

  beforeAll(async () => {
    t = await startTestServer();
    doc = (await t.api<OpenApiDoc>('GET', '/openapi.json', undefined, { token: null })).body;
  });
  afterAll(async () => {
    await t?.stop();
  });

  it.each(operations)('%s %s names an answer schema with its fields', (method, path, fields) => {
    const op = doc.paths[path]?.[method];
    expect(op, `${method} ${path} is in the document`).toBeDefined();
    const ok = Object.entries(op!.responses).filter(([status]) => status.startsWith('2'));
    expect(ok.length).toBe(1);
    const schema = ok[0]![1].content?.['application/json']?.schema;
    expect(schema?.$ref ?? (schema?.properties && 'inline'), 'a named schema or at least an object of fields').toBeTruthy();
    const answer = resolve(schema!);
    expect(Object.keys(answer.properties ?? {})).toEqual(expect.arrayContaining(fields));
    for (const [name, field] of Object.entries(answer.properties!)) {
      const f = resolve(field);
      // A field of no type at all says nothing to a client generator (the kind's own params aside).
      if (!['tripped'].includes(name)) expect(f.type ?? f.enum ?? f.anyOf ?? f.allOf ?? f.properties ?? f.items, `${path} ${name}`).toBeTruthy();
    }
  });

  it('pages name their items: rollout and rotation members carry action and state', () => {
    for (const path of ['/v1/rollouts/{id}/devices', '/v1/key-rotations/{id}/devices']) {
      const schema = doc.paths[path]!.get!.responses['200']!.content!['application/json']!.schema;
      const item = resolve(resolve(schema).properties!.items!.items!);
      expect(item.properties!.action!.enum).toEqual(['apply', 'revert']);
      expect(item.properties!.state!.enum).toEqual(expect.arrayContaining(['pending', 'downloading', 'rolled_back', 'timed_out']));
    }
  });

  it('describes what a new user asked: merchant address, KCV format, slot suffix, answer of a bound terminal', () => {
    const merchantInput = resolve(doc.paths['/v1/merchants']!.post!.requestBody!.content['application/json']!.schema);
    expect(merchantInput.properties!.address!.type).toBe('string');
    expect(merchantInput.required).toEqual(
      expect.arrayContaining(['mid', 'name', 'mcc', 'address', 'location', 'radiusM', 'timezone', 'kind', 'documents']),
    );
    const inventory = resolve(doc.paths['/v1/devices/{id}/keys']!.get!.responses['200']!.content!['application/json']!.schema);
    const key = resolve(inventory.properties!.slots!.items!) as Schema & { properties: Record<string, Schema & { description?: string }> };
    expect(key.properties.kcv!.description).toContain('cmac:');
    expect(key.properties.slot!.description).toContain('<slot>.<n>');
    const state = resolve(doc.paths['/v1/devices/{id}/binding']!.get!.responses['200']!.content!['application/json']!.schema);
    expect(resolve(state.properties!.lock!).properties!.reasons).toBeDefined();
  });

  it('names exactly the fields the server answers', async () => {
    const fieldsOf = (method: string, path: string, status: string) =>
      Object.keys(resolve(doc.paths[path]![method]!.responses[status]!.content!['application/json']!.schema).properties!).sort();
    const keysOf = (body: unknown) => Object.keys(body as object).sort();

    const approver = await createUser(t, 'admin');
    const merchant = await activeMerchant(t, approver);
    expect(keysOf(merchant)).toEqual(fieldsOf('post', '/v1/merchants/{id}/approve', '200'));
    expect(fieldsOf('post', '/v1/merchants', '201')).toEqual(keysOf(merchant));

    const d = await registerAndEnroll(t);
    const bound = await t.api('PUT', `/v1/devices/${d.deviceId}/binding`, { merchantId: merchant.id, tid: uniqueTid() });
    expect(bound.status).toBe(200);
    expect(keysOf(bound.body)).toEqual(fieldsOf('put', '/v1/devices/{id}/binding', '200'));

    const state = await t.api<{ binding: object; lock: object; relocation: object }>('GET', `/v1/devices/${d.deviceId}/binding`);
    const stateSchema = resolve(doc.paths['/v1/devices/{id}/binding']!.get!.responses['200']!.content!['application/json']!.schema);
    expect(keysOf(state.body)).toEqual(Object.keys(stateSchema.properties!).sort());
    expect(keysOf(state.body.lock)).toEqual(Object.keys(resolve(stateSchema.properties!.lock!).properties!).sort());
    expect(keysOf(state.body.relocation)).toEqual(Object.keys(resolve(stateSchema.properties!.relocation!).properties!).sort());
    expect(keysOf(state.body.binding)).toEqual(Object.keys(doc.components.schemas.Binding!.properties!).sort());

    const card = await t.api('POST', '/v1/card-blacklist', { pan: '4111111111111111', reason: 'stolen' });
    expect(card.status).toBe(201);
    expect(keysOf(card.body)).toEqual(fieldsOf('post', '/v1/card-blacklist', '201'));

    const inventory = await t.api('GET', `/v1/devices/${d.deviceId}/keys?history=true`);
    expect(keysOf(inventory.body)).toEqual(fieldsOf('get', '/v1/devices/{id}/keys', '200'));
    const report = await t.api('POST', `/v1/devices/${d.deviceId}/keys/report`);
    expect(report.status).toBe(202);
    expect(keysOf(report.body)).toEqual(fieldsOf('post', '/v1/devices/{id}/keys/report', '202'));

    const rotation = await t.api<{ id: string }>('POST', '/v1/key-rotations', {
      name: 'first load',
      usages: ['TMK'],
      target: { deviceIds: [d.deviceId] },
      phases: [{ name: 'all', percent: 100 }],
      successThreshold: 100,
      errorThreshold: 0,
    });
    expect(rotation.status).toBe(201);
    // Optional request fields (rate, window, startAt, the DUKPT injection) are named too, and absent when not given.
    const named = fieldsOf('post', '/v1/key-rotations', '201');
    expect(named).toEqual(expect.arrayContaining(keysOf(rotation.body)));
    expect(named.filter((k) => !keysOf(rotation.body).includes(k)).sort()).toEqual(['dukpt', 'rate', 'startAt', 'window']);
    const started = await t.api<{ state: string; phases: object[] }>('POST', `/v1/key-rotations/${rotation.body.id}/start`);
    expect(started.body.state).toBe('running');
    expect(keysOf(started.body.phases[0])).toEqual(Object.keys(doc.components.schemas.CampaignPhase!.properties!).sort());
    const members = await t.api<{ items: object[] }>('GET', `/v1/key-rotations/${rotation.body.id}/devices`);
    expect(members.body.items.length).toBe(1);
    expect(keysOf(members.body.items[0])).toEqual(Object.keys(doc.components.schemas.CampaignDevice!.properties!).sort());
    await t.api('POST', `/v1/key-rotations/${rotation.body.id}/cancel`);
  });
});
