// Fixtures for the merchant tests: users and merchants.
import type { MerchantsModule } from '../../server/merchants/module.ts';
import type { ServerModule } from '../../server/moduleContract.ts';
import type { TestServer } from '../helpers/testServer.ts';

export interface User {
  id: string;
  token: string;
}

/** Each server's second admin, made by the first alone: it approves the admins after it (dual control over users). */
const approvingAdmins = new WeakMap<TestServer, User>();

export async function createUser(
  t: TestServer,
  role: 'admin' | 'operator' | 'technician' | 'auditor',
  name = `${role}-${Math.random().toString(36).slice(2, 8)}`,
): Promise<User> {
  const res = await t.api<User & { request?: { id: string } }>('POST', '/v1/users', { name, role });
  const approver = approvingAdmins.get(t);
  if (res.status === 202 && res.body.request && approver) {
    const approved = await t.api<User>('POST', `/v1/user-requests/${res.body.request.id}/approve`, undefined, { token: approver.token });
    if (approved.status !== 201) throw new Error(`user approval failed: ${approved.status} ${JSON.stringify(approved.body)}`);
    return approved.body;
  }
  if (res.status !== 201) throw new Error(`user create failed: ${res.status} ${JSON.stringify(res.body)}`);
  if (role === 'admin' && !approver) approvingAdmins.set(t, res.body);
  return res.body;
}

let midCounter = 0;
export const uniqueMid = () =>
  `${String(Date.now()).slice(-8)}${String(process.pid % 100).padStart(2, '0')}${String(++midCounter).padStart(5, '0')}`.slice(0, 15);
let tidCounter = 0;
export const uniqueTid = () => `T${String(process.pid % 1000).padStart(3, '0')}${String(++tidCounter).padStart(4, '0')}`;

export const merchantBody = (over: Record<string, unknown> = {}) => ({
  mid: uniqueMid(),
  name: 'Noodle House',
  mcc: '5812',
  address: '1 Main St',
  location: { lat: 31.2304, lon: 121.4737 },
  radiusM: 200,
  timezone: 'Asia/Shanghai',
  kind: 'single',
  documents: { businessLicenceNo: 'BL-1', taxId: 'TX-1' },
  ...over,
});

export interface MerchantView {
  id: string;
  mid: string;
  status: string;
  policy: Record<string, unknown>;
}

/** Creates a merchant as `creator` (default: the test admin) and has `approver` approve it. */
export async function activeMerchant(
  t: TestServer,
  approver: User,
  over: Record<string, unknown> = {},
  creatorToken?: string,
): Promise<MerchantView> {
  const created = await t.api<MerchantView>('POST', '/v1/merchants', merchantBody(over), creatorToken ? { token: creatorToken } : {});
  if (created.status !== 201) throw new Error(`merchant create failed: ${created.status} ${JSON.stringify(created.body)}`);
  const ok = await t.api<MerchantView>('POST', `/v1/merchants/${created.body.id}/approve`, undefined, { token: approver.token });
  if (ok.status !== 200) throw new Error(`approve failed: ${ok.status} ${JSON.stringify(ok.body)}`);
  return ok.body;
}

const isMerchants = (m: ServerModule): m is MerchantsModule => m.name === 'merchants' && 'rebinds' in m;

export function moduleOf(t: TestServer): MerchantsModule {
  const found = t.server.parts.modules.find(isMerchants);
  if (!found) throw new Error('the merchants module is not registered');
  return found;
}
