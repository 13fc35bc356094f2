// The demo's organisations: an acquirer (the root) with two agents (resellers), each with its own
// operator, merchants and terminals, a parameter template with values per agent and per merchant,
// and a push of it. Everything goes through the public API, as an acquirer's staff would do it,
// and a second demo run finds what the first made (by name) instead of making it twice.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { ApiError, createApiClient, type ApiClient } from '../../client/apiClient.ts';
import { serialOf } from '../simulate/fleet.ts';
import { simTid } from '../simulate/bind.ts';

export interface DemoAgent {
  name: string;
  slug: string;
  merchant: { name: string; mid: string; address: string; lat: number; lon: number };
}

export const demoAgents: DemoAgent[] = [
  { name: 'North Agent', slug: 'north', merchant: { name: 'Bund Noodle House', mid: '104310000000001', address: '18 Zhongshan Rd, Shanghai', lat: 31.2397, lon: 121.4998 } },
  { name: 'South Agent', slug: 'south', merchant: { name: 'Pearl River Tea', mid: '104310000000002', address: '5 Yanjiang Rd, Guangzhou', lat: 23.1167, lon: 113.25 } },
];

/** Which demo terminals (DEMO-<index>) agent number `k` gets: a third of the fleet each, the acquirer keeps the last third; half of each share is bound. */
export function shareOf(k: number, fleet: number): { first: number; count: number; bound: number } {
  const size = Math.floor(fleet / 3);
  return { first: 1 + k * size, count: size, bound: Math.min(6, Math.ceil(size / 2)) };
}

const page = <T extends z.ZodType>(item: T) => z.object({ items: z.array(item), nextCursor: z.string().nullable() });
const org = z.looseObject({ id: z.string(), name: z.string() });
const merchant = z.looseObject({ id: z.string(), name: z.string(), status: z.string() });
const created = z.looseObject({ id: z.string() });
const createdUser = z.looseObject({ id: z.string(), token: z.string() });
const template = z.looseObject({ id: z.string(), name: z.string() });
const allocation = z.looseObject({ moved: z.number(), refused: z.array(z.looseObject({ id: z.string(), code: z.string() })) });

const TEMPLATE = {
  name: 'acquirer',
  description: 'card acceptance settings of the demo acquirer',
  appliesTo: { model: 'PAX-A920' },
  fields: [
    { key: 'acquirerHost', type: 'host', required: true, default: 'acq.demo-acquirer.example:443' },
    { key: 'currency', type: 'enum', values: ['CNY', 'HKD', 'USD'], required: true, default: 'CNY' },
    { key: 'tips', type: 'boolean', default: false },
    { key: 'timeoutS', type: 'integer', min: 5, max: 120, default: 30 },
    { key: 'receiptHeader', type: 'string', max: 40, description: 'first receipt line' },
  ],
};

function clientFor(baseUrl: string, token: string): ApiClient {
  return createApiClient({ baseUrl, token: () => token });
}

async function orgNamed(admin: ApiClient, name: string): Promise<string> {
  const { items } = await admin.call(page(org), 'GET', '/v1/orgs', { query: { limit: 500 } });
  const found = items.find((o) => o.name === name);
  return found ? found.id : (await admin.call(created, 'POST', '/v1/orgs', { body: { name } })).id;
}

/** The agent's operator: its token is kept in DATA_DIR so later runs act as the same user. */
async function agentOperator(baseUrl: string, admin: ApiClient, dataDir: string, a: DemoAgent, orgId: string): Promise<ApiClient> {
  const file = join(dataDir, `demo-${a.slug}-operator.token`);
  if (existsSync(file)) {
    const kept = clientFor(baseUrl, readFileSync(file, 'utf8').trim());
    const me = await kept.request('GET', '/v1/me').then(() => true, () => false);
    if (me) return kept;
  }
  const user = await admin.call(createdUser, 'POST', '/v1/users', { body: { name: `${a.slug}-operator`, role: 'operator', orgId } });
  writeFileSync(file, `${user.token}\n`, { mode: 0o600 });
  return clientFor(baseUrl, user.token);
}

async function agentMerchant(operator: ApiClient, admin: ApiClient, a: DemoAgent): Promise<string> {
  const { items } = await operator.call(page(merchant), 'GET', '/v1/merchants', { query: { limit: 100 } });
  const existing = items.find((m) => m.name === a.merchant.name);
  if (existing?.status === 'active') return existing.id;
  const id =
    existing?.id ??
    (
      await operator.call(created, 'POST', '/v1/merchants', {
        body: {
          mid: a.merchant.mid,
          name: a.merchant.name,
          mcc: '5812',
          address: a.merchant.address,
          location: { lat: a.merchant.lat, lon: a.merchant.lon },
          radiusM: 500,
          timezone: 'Asia/Shanghai',
          kind: 'single',
          documents: { businessLicenceNo: `BL-${a.slug}`, taxId: `TX-${a.slug}` },
        },
      })
    ).id;
  // Onboarding review: an admin of the owning node or above (here the acquirer's).
  await admin.request('POST', `/v1/merchants/${id}/approve`);
  return id;
}

async function bindSome(operator: ApiClient, share: { first: number; bound: number }, merchantId: string, idOf: Map<string, string>): Promise<number> {
  let bound = 0;
  for (let i = share.first; i < share.first + share.bound; i++) {
    const id = idOf.get(serialOf('DEMO', i));
    if (!id) continue;
    try {
      await operator.request('PUT', `/v1/devices/${id}/binding`, { body: { merchantId, tid: simTid(i) } });
      bound++;
    } catch (err) {
      // Already bound by an earlier demo run: binding is never switched by itself.
      if (!(err instanceof ApiError && err.status === 409)) throw err;
    }
  }
  return bound;
}

async function parameters(root: ApiClient, agents: { orgId: string; merchantId: string; a: DemoAgent }[]): Promise<string> {
  const { items } = await root.call(page(template), 'GET', '/v1/parameter-templates', { query: { name: TEMPLATE.name, limit: 50 } });
  if (items[0]) return items[0].id;
  const id = (await root.call(created, 'POST', '/v1/parameter-templates', { body: TEMPLATE })).id;
  const assign = (tier: string, targetId: string, values: Record<string, unknown>) =>
    root.request('PUT', `/v1/parameter-templates/${id}/assignments`, { body: { tier, targetId, values } });
  await assign('model', 'PAX-A920', { timeoutS: 45 });
  const [north, south] = agents;
  if (north) await assign('organisation', north.orgId, { tips: true });
  if (south) await assign('organisation', south.orgId, { currency: 'HKD' });
  for (const { merchantId, a } of agents) await assign('merchant', merchantId, { receiptHeader: a.merchant.name });
  const push = await root.call(created, 'POST', '/v1/parameter-pushes', {
    body: {
      name: 'acquirer v1 to the fleet',
      templateId: id,
      target: { filter: { model: 'PAX-A920' } },
      phases: [
        { name: 'canary', percent: 10 },
        { name: 'rest', percent: 90 },
      ],
      successThreshold: 80,
      errorThreshold: 20,
    },
  });
  await root.request('POST', `/v1/parameter-pushes/${push.id}/start`);
  return id;
}

export interface SeededAgents {
  agents: { name: string; orgId: string; merchantId: string; terminals: number; bound: number; tokenFile: string }[];
  templateId: string;
}

/** Lays out the agents over the demo fleet (its terminals registered already); `adminToken` is a root admin's. */
export async function seedDemoAgents(opts: { baseUrl: string; adminToken: string; dataDir: string; fleet: number }): Promise<SeededAgents> {
  const admin = clientFor(opts.baseUrl, opts.adminToken);
  const list = await admin.call(page(z.looseObject({ id: z.string(), serial: z.string() })), 'GET', '/v1/devices', { query: { q: 'DEMO-', limit: 500 } });
  const idOf = new Map(list.items.map((d) => [d.serial, d.id]));
  const seeded: SeededAgents['agents'] = [];
  for (const [k, a] of demoAgents.entries()) {
    const share = shareOf(k, opts.fleet);
    const orgId = await orgNamed(admin, a.name);
    const operator = await agentOperator(opts.baseUrl, admin, opts.dataDir, a, orgId);
    const merchantId = await agentMerchant(operator, admin, a);
    const serials = Array.from({ length: share.count }, (_, i) => serialOf('DEMO', share.first + i)).filter((s) => idOf.has(s));
    if (serials.length) await admin.call(allocation, 'POST', `/v1/orgs/${orgId}/allocations`, { body: { serials } });
    const bound = await bindSome(operator, share, merchantId, idOf);
    seeded.push({ name: a.name, orgId, merchantId, terminals: serials.length, bound, tokenFile: join(opts.dataDir, `demo-${a.slug}-operator.token`) });
  }
  const templateId = await parameters(admin, seeded.map((s, i) => ({ orgId: s.orgId, merchantId: s.merchantId, a: demoAgents[i]! })));
  return { agents: seeded, templateId };
}
