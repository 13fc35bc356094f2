// Expiry of the commands no tracker holds: in a cluster a terminal held nowhere has its open
// commands only in the database, so one instance at a time expires them there. A holder expires
// its own in memory within a second; the grace keeps this pass off those.
import type { CommandRow } from '../../schemas/db.ts';
import type { InstanceRegistry } from '../cluster/instances.ts';
import type { Logger } from '../log.ts';
import type { CommandStore } from './commandStore.ts';

export const ORPHAN_EXPIRY_PERIOD_MS = 5_000;
const GRACE_MS = 5_000;

export interface OrphanExpiryDeps {
  store: Pick<CommandStore, 'expireOverdue'>;
  instances: Pick<InstanceRegistry, 'claim'>;
  /** The rows just expired: announced like any expiry (events, timeline). */
  expired(rows: CommandRow[]): void;
  log: Logger;
}

export function createOrphanExpiry(deps: OrphanExpiryDeps) {
  let running = false;
  return async function expireOrphans(): Promise<void> {
    if (running) return;
    running = true;
    try {
      // One claim per period: whichever instance asks first in it runs the pass.
      const slot = Math.floor(Date.now() / ORPHAN_EXPIRY_PERIOD_MS);
      if (!(await deps.instances.claim(`command-expiry:${slot}`, ORPHAN_EXPIRY_PERIOD_MS))) return;
      const rows = await deps.store.expireOverdue(GRACE_MS);
      if (rows.length) deps.expired(rows);
    } catch (err) {
      deps.log.warn({ err }, 'expiring commands of terminals held nowhere failed');
    } finally {
      running = false;
    }
  };
}
