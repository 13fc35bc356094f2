// Which terminals may download package content (firmware images, app packages). A download storm
// asks this once per terminal, so it is answered from memory: terminals that are not enrolled
// (registered, revoked) are read at start and followed on the bus afterwards, the events of every
// instance of a cluster, so a terminal revoked through one instance downloads from none.
import { ne } from 'drizzle-orm';
import { devices } from '../../schemas/db.ts';
import type { ModuleContext } from '../moduleContract.ts';

export interface DownloadAllowList {
  deviceAllowed(deviceId: string): Promise<boolean>;
  /** Reads the terminals not enrolled; call from the module's start. */
  load(): Promise<void>;
}

export function createDownloadAllowList(ctx: Pick<ModuleContext, 'db' | 'bus' | 'credentials'>): DownloadAllowList {
  const blocked = new Set<string>();
  ctx.bus.onCluster('device.revoked', ({ deviceId }) => void blocked.add(deviceId));
  ctx.bus.onCluster('device.enrolled', ({ deviceId }) => void blocked.delete(deviceId));
  ctx.bus.onCluster('device.registered', ({ deviceId }) => void blocked.add(deviceId));
  return {
    deviceAllowed: async (id) => !blocked.has(id) && ctx.credentials.isKnown(id),
    async load() {
      const rows = await ctx.db.select({ id: devices.id }).from(devices).where(ne(devices.status, 'enrolled'));
      for (const r of rows) blocked.add(r.id);
    },
  };
}
