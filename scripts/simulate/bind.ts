// Binds a simulated terminal to a merchant through the operator API (PUT /v1/devices/{id}/binding),
// so that its simulated payment app has a merchant to take payments for. Already bound is fine.
// A bound simulated terminal is placed at its merchant's location (createMerchantSites).
import { z } from 'zod';
import { httpSend } from '../../agent/http.ts';
import type { SimulatedHardware } from '../../agent/simulatedHardware.ts';

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

const merchantSite = z.object({ location: z.object({ lat: z.number(), lon: z.number() }) });

/**
 * Puts simulated terminals where the merchant they serve is: a simulated terminal starts at a
 * random home (agent/simDrift.ts), and once bound it would report every fix hundreds of
 * kilometres from its merchant's fence and be flagged `relocated` at once. One lookup per merchant.
 */
export function createMerchantSites(opts: { server: string; token: string; ca?: string | Buffer }) {
  const sites = new Map<string, Promise<{ lat: number; lon: number } | null>>();
  const lookup = async (merchantId: string) => {
    const res = await httpSend({
      method: 'GET',
      url: new URL(`/v1/merchants/${encodeURIComponent(merchantId)}`, opts.server).toString(),
      headers: { authorization: `Bearer ${opts.token}` },
      ...(opts.ca ? { ca: opts.ca } : {}),
      timeoutMs: 15_000,
    });
    if (res.status !== 200) throw new Error(`merchant ${merchantId}: HTTP ${res.status}`);
    return merchantSite.parse(JSON.parse(res.body)).location;
  };
  return {
    /** Places `hardware` at the merchant's location; false when the merchant could not be read. */
    async placeAt(hardware: Pick<SimulatedHardware, 'placeAt'>, merchantId: string): Promise<boolean> {
      let site = sites.get(merchantId);
      if (!site) {
        site = lookup(merchantId).catch(() => null);
        sites.set(merchantId, site);
      }
      const at = await site;
      // A failed lookup is not cached: the next binding to that merchant asks again.
      if (!at) sites.delete(merchantId);
      else hardware.placeAt(at);
      return at !== null;
    },
  };
}

export type MerchantSites = ReturnType<typeof createMerchantSites>;
