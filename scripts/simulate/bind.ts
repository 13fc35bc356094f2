// Binds a simulated terminal to a merchant through the operator API (PUT /v1/devices/{id}/binding),
// so that its simulated payment app has a merchant to take payments for. Already bound is fine.
import { httpSend } from '../../agent/http.ts';

/** TID of the simulated terminal number `index` (8 characters, [0-9A-Z]). */
export const simTid = (index: number) => `S${String(index % 10_000_000).padStart(7, '0')}`;

export async function bindToMerchant(opts: {
  server: string;
  adminToken: string;
  deviceId: string;
  merchantId: string;
  tid: string;
  ca?: string | Buffer;
}): Promise<'bound' | 'already_bound' | string> {
  const res = await httpSend({
    method: 'PUT',
    url: new URL(`/v1/devices/${encodeURIComponent(opts.deviceId)}/binding`, opts.server).toString(),
    headers: { authorization: `Bearer ${opts.adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ merchantId: opts.merchantId, tid: opts.tid }),
    ...(opts.ca ? { ca: opts.ca } : {}),
    timeoutMs: 15_000,
  });
  if (res.status === 200) return 'bound';
  if (res.status === 409 && res.body.includes('binding_locked')) return 'already_bound';
  return `http_${res.status}`;
}
