// What the broker checks at CONNECT: a keyed hash per device, in memory, so a reconnect storm
// of the whole fleet costs one HMAC per device and no database round trip.
import { eq, inArray, isNotNull } from 'drizzle-orm';
import { devices, type DeviceStatus } from '../../schemas/db.ts';
import type { Db } from '../db/database.ts';

export type CredentialCheck = 'ok' | 'bad_credentials' | 'revoked';

interface Entry {
  secretHash: string | null;
  status: DeviceStatus;
}

export interface CredentialCache {
  load(): Promise<number>;
  check(deviceId: string, password: string): Promise<CredentialCheck>;
  set(deviceId: string, entry: Entry): void;
  isKnown(deviceId: string): boolean;
  forget(deviceId: string): void;
}

/** The cache as its owner holds it: also re-read when another instance changed devices. */
export interface RefreshableCredentialCache extends CredentialCache {
  /**
   * Reads these devices again (another instance changed them): a row replaces its entry, a
   * missing one is forgotten, and neither stays in the negative cache. Returns each stored status.
   */
  refresh(deviceIds: readonly string[]): Promise<Map<string, DeviceStatus>>;
}

export function createCredentialCache(deps: { db: Db; verify: (secret: string, hash: string) => boolean }): RefreshableCredentialCache {
  const entries = new Map<string, Entry>();
  // Names that were not devices a moment ago: a client hammering random user names must not
  // cost a database query per attempt.
  const unknown = new Map<string, number>();
  const UNKNOWN_TTL_MS = 30_000;

  const lookup = async (id: string): Promise<Entry | undefined> => {
    const hit = entries.get(id);
    if (hit) return hit;
    const missUntil = unknown.get(id);
    if (missUntil !== undefined && missUntil > Date.now()) return undefined;
    // Another instance may have enrolled it since we loaded.
    const [row] = await deps.db
      .select({ secretHash: devices.secretHash, status: devices.status })
      .from(devices)
      .where(eq(devices.id, id))
      .limit(1);
    if (row) entries.set(id, row);
    else {
      if (unknown.size >= 10_000) unknown.clear();
      unknown.set(id, Date.now() + UNKNOWN_TTL_MS);
    }
    return row;
  };

  return {
    async load() {
      const rows = await deps.db
        .select({ id: devices.id, secretHash: devices.secretHash, status: devices.status })
        .from(devices)
        .where(isNotNull(devices.secretHash));
      for (const r of rows) entries.set(r.id, { secretHash: r.secretHash, status: r.status });
      return rows.length;
    },
    async check(id, password) {
      const e = await lookup(id);
      if (!e || !e.secretHash) return e?.status === 'revoked' || e?.status === 'blacklisted' ? 'revoked' : 'bad_credentials';
      if (!deps.verify(password, e.secretHash)) return 'bad_credentials';
      // Anything but enrolled (revoked, blacklisted, reset) is refused: CONNACK not authorized.
      return e.status === 'enrolled' ? 'ok' : 'revoked';
    },
    set(id, entry) {
      entries.set(id, entry);
      unknown.delete(id);
    },
    isKnown: (id) => entries.has(id),
    forget: (id) => void entries.delete(id),
    async refresh(ids) {
      const found = new Map<string, DeviceStatus>();
      for (let i = 0; i < ids.length; i += 1000) {
        const chunk = ids.slice(i, i + 1000);
        const rows = await deps.db
          .select({ id: devices.id, secretHash: devices.secretHash, status: devices.status })
          .from(devices)
          .where(inArray(devices.id, chunk));
        for (const r of rows) found.set(r.id, r.status);
        for (const r of rows) entries.set(r.id, { secretHash: r.secretHash, status: r.status });
      }
      for (const id of ids) {
        unknown.delete(id);
        if (!found.has(id)) entries.delete(id);
      }
      return found;
    },
  };
}
