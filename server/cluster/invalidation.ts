// Caches built from the database that a change made through another instance makes wrong: a
// terminal's credentials and status (the broker's check at CONNECT, the device blacklist), a
// user's cached tokens, a domain module's settings. The instance that changed the rows says so
// after commit (`invalidate` channel); each peer re-reads them from PostgreSQL, the truth, so a
// message needs to carry only ids. Pub/sub may lose a message while Redis is away: the periodic
// reloads that predate the cluster (blacklist, merchant registry, fault settings) stay the net.
import type { DeviceStatus } from '../../schemas/db.ts';
import type { AuthService } from '../auth/authService.ts';
import type { RefreshableCredentialCache } from '../devices/credentialCache.ts';
import type { Logger } from '../log.ts';
import type { DeviceBlacklist } from '../terminalControl/deviceBlacklist.ts';
import type { ClusterLink } from './clusterLink.ts';

/** What an instance announces after a commit; on a single instance (solo link) nothing is sent. */
export interface Invalidations {
  devices(deviceIds: string[]): void;
  principal(userId: string): void;
  module(module: string, ids?: string[]): void;
}

export function createInvalidations(link: ClusterLink): Invalidations {
  return {
    devices(deviceIds) {
      if (deviceIds.length) link.publish('invalidate', { kind: 'device', deviceIds });
    },
    principal: (userId) => link.publish('invalidate', { kind: 'principal', userId }),
    module: (module, ids) => link.publish('invalidate', { kind: 'module', module, ...(ids ? { ids } : {}) }),
  };
}

/**
 * One reload at a time, in arrival order: a re-read started before a later commit must not
 * land after the re-read that follows that commit.
 */
function serially(log: Logger, what: string) {
  let chain = Promise.resolve();
  return (work: () => Promise<void>) => {
    chain = chain.then(work).catch((err: unknown) => log.warn({ err }, `${what} after a peer's change failed`));
  };
}

/** Runs `fn` (one at a time) when a peer announces a change of `module`'s data; `ids` as the peer gave them. */
export function onModuleInvalidated(
  link: ClusterLink,
  module: string,
  fn: (ids: string[] | undefined) => Promise<void>,
  log: Logger,
): () => void {
  const run = serially(log, `reloading ${module}`);
  return link.on('invalidate', (msg) => {
    if (msg.kind === 'module' && msg.module === module) run(() => fn(msg.ids));
  });
}

export interface InvalidationTargets {
  link: ClusterLink;
  credentials: Pick<RefreshableCredentialCache, 'refresh' | 'forget'>;
  auth: Pick<AuthService, 'forgetUser'>;
  blacklist: Pick<DeviceBlacklist, 'apply'>;
  broker: { isConnected(deviceId: string): boolean; disconnect(deviceId: string): void };
  log: Logger;
}

/** The server's own caches (modules wire theirs with onModuleInvalidated). Returns the unsubscribe. */
export function wireInvalidation(t: InvalidationTargets): () => void {
  const log = t.log.child({ part: 'invalidation' });
  const run = serially(log, 'reloading device credentials');

  async function devicesChanged(ids: string[]) {
    let statuses: Map<string, DeviceStatus>;
    try {
      statuses = await t.credentials.refresh(ids);
    } catch (err) {
      // Not trusted any more and not readable now: the next CONNECT looks them up again.
      for (const id of ids) t.credentials.forget(id);
      throw err;
    }
    t.blacklist.apply(ids, statuses);
    // The holder closes the link; a terminal connected elsewhere is that instance's to close.
    for (const id of ids) if (statuses.get(id) !== 'enrolled' && t.broker.isConnected(id)) t.broker.disconnect(id);
  }

  return t.link.on('invalidate', (msg) => {
    if (msg.kind === 'principal') t.auth.forgetUser(msg.userId);
    else if (msg.kind === 'device') run(() => devicesChanged(msg.deviceIds));
  });
}
