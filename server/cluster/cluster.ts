// The cluster as the rest of the server sees it: this instance's id, the link to its peers and
// the registry of live instances. A single instance (CLUSTER unset) gets solo parts with the same
// shape, so no room asks "am I clustered?" except where the answer changes what it must do.
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Config } from '../config.ts';
import type { Logger } from '../log.ts';
import { createRedisLink, createSoloLink, type ClusterLink } from './clusterLink.ts';
import { createInstanceRegistry, type InstanceRegistry } from './instances.ts';

export interface Cluster {
  readonly instanceId: string;
  readonly clustered: boolean;
  readonly link: ClusterLink;
  readonly instances: InstanceRegistry;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** INSTANCE_ID, else the host's name and a random suffix (two instances on one host differ). */
export function instanceIdOf(config: Pick<Config, 'INSTANCE_ID'>): string {
  if (config.INSTANCE_ID) return config.INSTANCE_ID;
  const host = hostname().replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 40) || 'host';
  return `${host}-${randomBytes(3).toString('hex')}`;
}

function soloRegistry(instanceId: string): InstanceRegistry {
  return {
    start: async () => undefined,
    stop: async () => undefined,
    alive: async () => new Set([instanceId]),
    onDead: () => undefined,
    onRevived: () => undefined,
    claim: async () => true,
  };
}

/**
 * How long an instance counts as alive after its last refresh: half the heartbeat timeout (a dead
 * instance's terminals must be offline within it), at least 5 s and at most 15 s, since a busy
 * event loop (a fleet reconnecting, a fleet-wide command) can delay a refresh by seconds.
 */
export const livenessTtlMs = (heartbeatTimeoutS: number) => Math.min(15_000, Math.max(5_000, (heartbeatTimeoutS * 1000) / 2));

export function createCluster(deps: { config: Pick<Config, 'CLUSTER' | 'INSTANCE_ID' | 'HEARTBEAT_TIMEOUT_S'>; redisUrl: string; prefix: string; log: Logger }): Cluster {
  const instanceId = instanceIdOf(deps.config);
  if (!deps.config.CLUSTER) {
    return { instanceId, clustered: false, link: createSoloLink(instanceId), instances: soloRegistry(instanceId), start: async () => undefined, stop: async () => undefined };
  }
  const log = deps.log.child({ instance: instanceId });
  const link = createRedisLink({ redisUrl: deps.redisUrl, prefix: deps.prefix, instanceId, log });
  const instances = createInstanceRegistry({ redisUrl: deps.redisUrl, prefix: deps.prefix, instanceId, log, ttlMs: livenessTtlMs(deps.config.HEARTBEAT_TIMEOUT_S) });
  return {
    instanceId,
    clustered: true,
    link,
    instances,
    async start() {
      await link.start();
      await instances.start();
    },
    async stop() {
      await instances.stop();
      await link.stop();
    },
  };
}
