// Messages produced while the link is down, kept in order until it is back. Bounded, because a
// terminal offline for days must not fill its memory: the oldest events go first, and how many
// went is counted so the agent can say so once it is back. Acks are dropped only as a last resort
// (the server re-sends commands it has no answer for, so even that loss is recoverable).
import type { DevicePublishKind } from '../schemas/wire.ts';
import type { OutboxItem } from './schemas.ts';

export type { OutboxItem };

export interface Outbox {
  push(item: OutboxItem): void;
  /** Removes and returns everything, oldest first. */
  drain(): OutboxItem[];
  size(): number;
  /** Dropped counts by kind since the last call; resets them. */
  takeDropped(): Partial<Record<DevicePublishKind, number>>;
}

export function createOutbox(limit: number): Outbox {
  let items: OutboxItem[] = [];
  let dropped: Partial<Record<DevicePublishKind, number>> = {};
  const drop = (index: number) => {
    const [gone] = items.splice(index, 1);
    if (gone) dropped[gone.kind] = (dropped[gone.kind] ?? 0) + 1;
  };
  return {
    push(item) {
      items.push(item);
      if (items.length <= limit) return;
      const firstEvent = items.findIndex((i) => i.kind !== 'ack');
      drop(firstEvent >= 0 ? firstEvent : 0);
    },
    drain() {
      const out = items;
      items = [];
      return out;
    },
    size: () => items.length,
    takeDropped() {
      const d = dropped;
      dropped = {};
      return d;
    },
  };
}
