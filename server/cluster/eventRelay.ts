// The event bus across the cluster: this instance's events go to every peer in batches, and
// peers' events are emitted here for cluster-wide listeners (the live stream, a campaign's
// leader). Batching matters at fleet speed: the acks of a fleet-wide command are tens of
// thousands of `command.updated` events, and one Redis message per 20 ms costs far less than one
// per event. Also shares which devices' live health this instance's streams watch, so the
// instance holding such a device sends its samples.
import type { EventBus, LiveEventName, LiveEvents } from '../events/eventBus.ts';
import type { ClusterLink } from './clusterLink.ts';

const BATCH_MS = 20;
const BATCH_MAX = 1_000;
/** A peer's watched set is repeated this often, and trusted for three times as long. */
const WATCH_EVERY_MS = 5_000;

export interface EventRelay {
  start(): void;
  stop(): void;
}

export function createEventRelay(deps: { bus: EventBus; link: ClusterLink }): EventRelay {
  const { bus, link } = deps;
  let batch: { name: LiveEventName; data: LiveEvents[LiveEventName] }[] = [];
  let timer: NodeJS.Timeout | undefined;
  const offs: (() => void)[] = [];

  const send = () => {
    timer = undefined;
    if (!batch.length) return;
    link.publish('events', { events: batch });
    batch = [];
  };
  const announceWatching = () => link.publish('watching', { deviceIds: bus.healthWatch.localIds() });

  return {
    start() {
      if (!link.clustered) return;
      offs.push(
        bus.onLocalAny((name, data) => {
          batch.push({ name, data });
          if (batch.length >= BATCH_MAX) send();
          else timer ??= setTimeout(send, BATCH_MS);
        }),
      );
      offs.push(link.on('events', (msg) => {
        for (const e of msg.events) bus.emitRemote(e);
      }));
      offs.push(link.on('watching', (msg, from) => bus.healthWatch.setRemote(from, msg.deviceIds, Date.now() + 3 * WATCH_EVERY_MS)));
      bus.healthWatch.onLocalChange(announceWatching);
      const repeat = setInterval(() => {
        if (bus.healthWatch.size()) announceWatching();
      }, WATCH_EVERY_MS);
      offs.push(() => clearInterval(repeat));
    },
    stop() {
      if (timer) clearTimeout(timer);
      send();
      for (const off of offs) off();
    },
  };
}
