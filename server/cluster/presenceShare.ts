// The presence of the terminals this instance holds, told to its peers, and theirs applied here:
// every instance's LiveState then knows whether every terminal is online and its firmware, so
// fleet views and the campaign engine agree wherever they are asked. Changes go out in 20 ms
// batches; last-seen times (a sign of life changes no filter) every few seconds. A starting
// instance asks each live peer for the terminals it holds, since pub/sub keeps no history.
import { z } from 'zod';
import { presenceNote, type PresenceNote } from '../../schemas/cluster.ts';
import type { Logger } from '../log.ts';
import type { DeviceLive, LiveState } from '../telemetry/liveState.ts';
import type { ClusterLink } from './clusterLink.ts';
import type { PresenceHold } from './presenceHold.ts';

const BATCH_MS = 20;
const BATCH_MAX = 1_000;
const LAST_SEEN_EVERY_MS = 5_000;
const HELD_METHOD = 'presence.held';
const heldAnswer = z.object({ items: z.array(presenceNote) });

export interface PresenceShare {
  /** Subscribes and serves; then `sync` with the peers alive. */
  start(): void;
  /** Asks each peer for the terminals it holds (a starting instance knows nothing yet). */
  sync(peers: Iterable<string>): Promise<void>;
  /** Tells the peers how these terminals are here now (offline after a restart, say). */
  announce(deviceIds: Iterable<string>): void;
  stop(): void;
}

export const noteOf = (d: DeviceLive): PresenceNote => ({
  deviceId: d.deviceId,
  online: d.online,
  connected: d.connected,
  fwVersion: d.fwVersion ?? null,
  slot: d.slot ?? null,
  lastSeenMs: d.lastSeenMs,
});

export function createPresenceShare(deps: {
  instanceId: string;
  live: LiveState;
  link: ClusterLink;
  hold: PresenceHold;
  log: Logger;
}): PresenceShare {
  const { live, link, hold, instanceId } = deps;
  const offs: (() => void)[] = [];
  let timer: NodeJS.Timeout | undefined;
  /** Last-seen time last told, per terminal held here. */
  const toldSeen = new Map<string, number>();
  /** Noted by a peer since `sync` began: its answer is older than the note. */
  let notedDuringSync: Set<string> | undefined;

  const publish = (items: PresenceNote[]) => {
    for (let i = 0; i < items.length; i += BATCH_MAX) link.publish('presence', { items: items.slice(i, i + BATCH_MAX) });
  };

  const sendNews = () => {
    timer = undefined;
    const items: PresenceNote[] = [];
    for (const d of live.takeNews()) {
      // Only what this instance holds, or has just let go of (its offline note).
      if (d.holder !== undefined && d.holder !== instanceId) continue;
      items.push(noteOf(d));
      if (d.connected) toldSeen.set(d.deviceId, d.lastSeenMs);
      else toldSeen.delete(d.deviceId);
    }
    publish(items);
  };

  const sendLastSeen = () => {
    const items: PresenceNote[] = [];
    for (const d of live.heldHere()) {
      if (toldSeen.get(d.deviceId) === d.lastSeenMs) continue;
      toldSeen.set(d.deviceId, d.lastSeenMs);
      items.push(noteOf(d));
    }
    for (const id of toldSeen.keys()) if (live.get(id)?.holder !== instanceId) toldSeen.delete(id);
    publish(items);
  };

  function apply(note: PresenceNote, from: string) {
    notedDuringSync?.add(note.deviceId);
    const outcome = live.applyRemote(note, from);
    if (outcome === 'taken') hold.moved(note.deviceId);
    else if (outcome === 'contested') hold.contested(note, from);
  }

  return {
    start() {
      if (!link.clustered) return;
      live.onNews(() => void (timer ??= setTimeout(sendNews, BATCH_MS)));
      offs.push(
        link.on('presence', (msg, from) => {
          for (const note of msg.items) apply(note, from);
        }),
      );
      link.serve(HELD_METHOD, async () => ({ items: live.heldHere().map(noteOf) }));
      const repeat = setInterval(sendLastSeen, LAST_SEEN_EVERY_MS);
      offs.push(() => clearInterval(repeat));
    },
    async sync(peers) {
      notedDuringSync = new Set();
      try {
        await Promise.all(
          [...peers].map(async (peer) => {
            try {
              const answer = heldAnswer.parse(await link.call(peer, HELD_METHOD, null));
              for (const note of answer.items) if (!notedDuringSync?.has(note.deviceId)) live.applyRemote(note, peer);
            } catch (err) {
              deps.log.warn({ err, peer }, 'a peer did not say which terminals it holds');
            }
          }),
        );
      } finally {
        notedDuringSync = undefined;
      }
    },
    announce(deviceIds) {
      const items: PresenceNote[] = [];
      for (const id of deviceIds) {
        const d = live.get(id);
        // Never written before the crash: offline, nothing more known.
        items.push(d ? noteOf(d) : { deviceId: id, online: false, connected: false, fwVersion: null, slot: null, lastSeenMs: Date.now() });
      }
      publish(items);
    },
    stop() {
      if (timer) clearTimeout(timer);
      if (link.clustered) sendNews();
      for (const off of offs.splice(0)) off();
    },
  };
}
