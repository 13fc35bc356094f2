// What the embedded broker needs to join the others: aedes' id (the instance id, so takeover
// notices name instances) and the restricted Redis emitter, ready before terminals connect.
import { createClusterEmitter, type BrokerEmitter } from '../broker/clusterEmitter.ts';
import type { Logger } from '../log.ts';
import type { Cluster } from './cluster.ts';

const READY_WITHIN_MS = 10_000;

export async function brokerJoin(deps: { cluster: Cluster; redisUrl: string; keyPrefix: string; log: Logger }): Promise<{ mq?: BrokerEmitter; id?: string }> {
  if (!deps.cluster.clustered) return {};
  const mq = createClusterEmitter({ redisUrl: deps.redisUrl, keyPrefix: deps.keyPrefix, log: deps.log });
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      mq.ready(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`the broker's Redis emitter was not ready within ${READY_WITHIN_MS} ms`)), READY_WITHIN_MS);
      }),
    ]);
  } catch (err) {
    await new Promise<void>((ok) => mq.close(() => ok()));
    throw err;
  } finally {
    clearTimeout(timer);
  }
  return { mq, id: deps.cluster.instanceId };
}
