// Two agents under the root, each with an admin, an operator, a merchant and terminals, made
// through the API as a real acquirer would: the fixture of the organisation suites.
import { expect } from 'vitest';
import { connectDevice, kekPublicKey, publish, uniqueSerial, type EnrolledDevice } from '../helpers/devices.ts';
import { topicFor } from '../../schemas/wire.ts';
import { TEST_ENROLL_TOKEN, type TestServer } from '../helpers/testServer.ts';
import { activeMerchant, createUser, type MerchantView, type User } from '../merchants/helpers.ts';

export interface OrgView {
  id: string;
  parentId: string | null;
  name: string;
  path: string;
  depth: number;
  counts: { users: number; merchants: number; terminals: number };
}

export interface Agent {
  org: OrgView;
  admin: User;
  operator: User;
  merchant: MerchantView;
  /** Enrolled terminals registered by the agent's admin. */
  terminals: { id: string; serial: string }[];
}

export async function createOrg(t: TestServer, name: string, parentId?: string, token?: string): Promise<OrgView> {
  const res = await t.api<OrgView>('POST', '/v1/orgs', { name, ...(parentId ? { parentId } : {}) }, token ? { token } : {});
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

/** A user of `orgId`; an admin past the second goes through a user request that `approver` (a root admin) approves. */
export async function orgUser(t: TestServer, role: 'admin' | 'operator' | 'technician' | 'auditor', orgId: string, approver: User): Promise<User> {
  const name = `${role}-${Math.random().toString(36).slice(2, 8)}`;
  const res = await t.api<User & { request?: { id: string } }>('POST', '/v1/users', { name, role, orgId });
  if (res.status === 202 && res.body.request) {
    const approved = await t.api<User>('POST', `/v1/user-requests/${res.body.request.id}/approve`, undefined, { token: approver.token });
    expect(approved.status, JSON.stringify(approved.body)).toBe(201);
    return approved.body;
  }
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

/** Registers (as `token`'s user, so in its node unless `orgId` says) and enrolls a terminal. */
export async function orgTerminal(t: TestServer, token: string, orgId?: string): Promise<{ id: string; serial: string }> {
  const serial = uniqueSerial('ORG');
  const reg = await t.api<{ id: string }>('POST', '/v1/devices', { serial, model: 'PAX-A920', ...(orgId ? { orgId } : {}) }, { token });
  expect(reg.status, JSON.stringify(reg.body)).toBe(201);
  const enrolled = await t.api('POST', '/v1/enroll', { serial, model: 'PAX-A920', fwVersion: '1.0.0', kekPublicKey: kekPublicKey(), enrollToken: TEST_ENROLL_TOKEN }, { token: null });
  expect(enrolled.status).toBe(201);
  return { id: reg.body.id, serial };
}

/** A root admin other than the test admin: it approves admins and merchants made by the agents. */
export const rootReviewer = (t: TestServer) => createUser(t, 'admin');

export async function agent(t: TestServer, name: string, reviewer: User, terminals = 2): Promise<Agent> {
  const org = await createOrg(t, name);
  const admin = await orgUser(t, 'admin', org.id, reviewer);
  const operator = await orgUser(t, 'operator', org.id, reviewer);
  // Created by the agent's operator (so in its node), reviewed by the agent's admin: the owning node.
  const merchant = await activeMerchant(t, admin, {}, operator.token);
  const made: { id: string; serial: string }[] = [];
  for (let i = 0; i < terminals; i++) made.push(await orgTerminal(t, admin.token));
  return { org, admin, operator, merchant, terminals: made };
}

/** A terminal of `token`'s node that talks MQTT: registered, enrolled, connected and online. */
export async function liveOrgTerminal(t: TestServer, token: string): Promise<EnrolledDevice & { client: Awaited<ReturnType<typeof connectDevice>> }> {
  const serial = uniqueSerial('ORGLIVE');
  const reg = await t.api<{ id: string }>('POST', '/v1/devices', { serial, model: 'PAX-A920' }, { token });
  expect(reg.status, JSON.stringify(reg.body)).toBe(201);
  const res = await t.api<{ deviceId: string; mqtt: { url: string; password: string } }>(
    'POST',
    '/v1/enroll',
    { serial, model: 'PAX-A920', fwVersion: '1.0.0', kekPublicKey: kekPublicKey(), enrollToken: TEST_ENROLL_TOKEN },
    { token: null },
  );
  expect(res.status).toBe(201);
  const device = { deviceId: res.body.deviceId, serial, password: res.body.mqtt.password, mqttUrl: res.body.mqtt.url };
  const client = await connectDevice(device);
  await publish(client, topicFor(device.deviceId, 'state'), { online: true, fwVersion: '1.0.0', slot: 'A', ts: Date.now() }, 1, true);
  return { ...device, client };
}

/** The terminal reports its case opened: a device.event, and a critical `tamper` fault. */
export const tamper = (d: EnrolledDevice & { client: Awaited<ReturnType<typeof connectDevice>> }) =>
  publish(d.client, topicFor(d.deviceId, 'event'), { ts: Date.now(), seq: 2, type: 'tamper', severity: 'critical', data: { source: 'switch' } });
