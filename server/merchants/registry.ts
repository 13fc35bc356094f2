// In-memory view for the ingest hot path: which merchant each terminal serves, that merchant's
// fence and policy, relocation tracks and exemptions (the device blacklist is terminal control's).
// Loaded at start, kept current by the services, and reloaded periodically so that several
// server instances converge.
import { isNull } from 'drizzle-orm';
import { merchantBindings, merchants, terminalControl, type MerchantRow } from '../../schemas/tables/merchants.ts';
import type { Db } from '../db/database.ts';
import { freshTrack, type GeoTrack } from './geofence.ts';
import type { SeenTxn } from './suspicion.ts';

export type MerchantInfo = Pick<
  MerchantRow,
  'id' | 'lat' | 'lon' | 'radiusM' | 'timezone' | 'policy' | 'status' | 'kind' | 'subMerchants' | 'mid'
>;

export interface TerminalTrack extends GeoTrack {
  exempt: boolean;
}

export interface Registry {
  load(): Promise<void>;
  merchantOf(deviceId: string): MerchantInfo | undefined;
  setBinding(deviceId: string, merchantId: string | null): void;
  setMerchant(m: MerchantInfo): void;
  track(deviceId: string): TerminalTrack;
  setTrack(deviceId: string, t: TerminalTrack): void;
  /** Day on which a figures breach was already handled, per device. */
  flagged: Map<string, string>;
  recentTxns: Map<string, SeenTxn[]>;
}

const pick = (m: MerchantRow): MerchantInfo => ({
  id: m.id,
  mid: m.mid,
  lat: m.lat,
  lon: m.lon,
  radiusM: m.radiusM,
  timezone: m.timezone,
  policy: m.policy,
  status: m.status,
  kind: m.kind,
  subMerchants: m.subMerchants,
});

export function createRegistry(db: Db): Registry {
  let boundTo = new Map<string, string>();
  let merchantMap = new Map<string, MerchantInfo>();
  const tracks = new Map<string, TerminalTrack>();

  return {
    async load() {
      const rows = await db.select().from(merchants);
      const bindings = await db
        .select({ deviceId: merchantBindings.deviceId, merchantId: merchantBindings.merchantId })
        .from(merchantBindings)
        .where(isNull(merchantBindings.closedAt));
      const controls = await db.select().from(terminalControl);
      merchantMap = new Map(rows.map((m) => [m.id, pick(m)]));
      boundTo = new Map(bindings.map((b) => [b.deviceId, b.merchantId]));
      for (const c of controls) {
        const mem = tracks.get(c.deviceId);
        // Counting happens here; the database holds the last persisted verdict.
        if (!mem || mem.relocated !== c.relocated || mem.exempt !== c.relocationExempt) {
          tracks.set(c.deviceId, { consecutiveOut: c.consecutiveOut, relocated: c.relocated, exempt: c.relocationExempt });
        }
      }
    },
    merchantOf(deviceId) {
      const m = boundTo.get(deviceId);
      return m ? merchantMap.get(m) : undefined;
    },
    setBinding(deviceId, merchantId) {
      if (merchantId) boundTo.set(deviceId, merchantId);
      else boundTo.delete(deviceId);
      tracks.set(deviceId, { ...freshTrack(), exempt: tracks.get(deviceId)?.exempt ?? false });
    },
    setMerchant(m) {
      merchantMap.set(m.id, { ...m });
    },
    track: (id) => tracks.get(id) ?? { ...freshTrack(), exempt: false },
    setTrack: (id, t) => void tracks.set(id, t),
    flagged: new Map(),
    recentTxns: new Map(),
  };
}
