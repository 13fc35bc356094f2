// One object of every kind an agent owns, made through the API as the agent's own staff: the
// other side of the scoping suites (A must neither read, change, nor list any of B's).
import { expect } from 'vitest';
import { z } from 'zod';
import type { TestServer } from '../helpers/testServer.ts';
import type { Agent } from './helpers.ts';

export interface AgentObjects {
  group: string;
  filter: string;
  batch: string;
  rollout: string;
  keyRotation: string;
  parameterPush: string;
  window: string;
}

const phases = { phases: [{ name: 'all', percent: 100 }], successThreshold: 90, errorThreshold: 50 };

async function made(res: Promise<{ status: number; body: unknown }>, field = 'id'): Promise<string> {
  const r = await res;
  expect([201, 202], JSON.stringify(r.body)).toContain(r.status);
  return z.record(z.string(), z.unknown()).pipe(z.object({ [field]: z.string() })).parse(r.body)[field]!;
}

/** Made by the agent's operator (campaigns and batches belong to their creator's node) and admin. */
export async function agentObjects(t: TestServer, x: Agent, firmwareId: string, templateId: string): Promise<AgentObjects> {
  const op = { token: x.operator.token };
  const tag = `${x.org.name}-${Math.random().toString(36).slice(2, 8)}`;
  const target = { deviceIds: x.terminals.map((d) => d.id) };
  return {
    group: await made(t.api('POST', '/v1/groups', { name: `group ${tag}` }, op)),
    filter: await made(t.api('POST', '/v1/filters', { name: `filter ${tag}`, query: 'model = "PAX-A920"' }, op)),
    batch: await made(t.api('POST', '/v1/commands', { type: 'reboot', payload: {}, target }, op), 'batchId'),
    rollout: await made(t.api('POST', '/v1/rollouts', { name: `rollout ${tag}`, firmwareId, target, ...phases }, op)),
    keyRotation: await made(t.api('POST', '/v1/key-rotations', { name: `keys ${tag}`, usages: ['TPK'], target, ...phases }, op)),
    parameterPush: await made(t.api('POST', '/v1/parameter-pushes', { name: `params ${tag}`, templateId, target, ...phases }, op)),
    window: await made(
      t.api('POST', '/v1/maintenance-windows', { scope: 'org', targetId: x.org.id, days: [1], start: '01:00', end: '02:00' }, { token: x.admin.token }),
    ),
  };
}

/** A parameter template for the fixture's model (templates are a fleet-wide catalogue, made by the root). */
export async function fixtureTemplate(t: TestServer): Promise<string> {
  return made(
    t.api('POST', '/v1/parameter-templates', {
      name: `org-fixture-${Math.random().toString(36).slice(2, 8)}`,
      appliesTo: { model: 'PAX-A920' },
      fields: [{ key: 'currency', type: 'enum', values: ['EUR', 'USD'], default: 'EUR' }],
    }),
  );
}
