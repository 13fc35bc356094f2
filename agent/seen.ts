// Commands already seen, so a re-delivered command (QoS1 duplicate, the server's re-send after a
// reconnect, a broker session replay) is acted on once. Bounded: only recent ids can come back.
import type { AckMessage } from '../schemas/wire.ts';
import type { SeenCommand } from './schemas.ts';

export interface SeenLog {
  get(id: string): SeenCommand | undefined;
  start(id: string, type: string, at: number): void;
  finish(id: string, type: string, at: number, ack: AckMessage): void;
  /** A deferred command is not done: a re-delivery should run it again. */
  forget(id: string): void;
  unfinished(): SeenCommand[];
}

export const DEFAULT_SEEN_LIMIT = 500;

export function createSeenLog(opts: {
  initial?: readonly SeenCommand[];
  limit?: number;
  persist?: (list: SeenCommand[]) => void;
}): SeenLog {
  const limit = opts.limit ?? DEFAULT_SEEN_LIMIT;
  // Map keeps insertion order, so the oldest entry is the first key.
  const map = new Map<string, SeenCommand>();
  for (const e of opts.initial ?? []) map.set(e.id, e);
  const save = () => {
    while (map.size > limit) map.delete(map.keys().next().value as string);
    opts.persist?.([...map.values()]);
  };
  return {
    get: (id) => map.get(id),
    start(id, type, at) {
      map.set(id, { id, type, at });
      save();
    },
    finish(id, type, at, ack) {
      const prev = map.get(id);
      map.delete(id);
      map.set(id, { id, type, at: prev?.at ?? at, final: ack });
      save();
    },
    forget(id) {
      if (map.delete(id)) save();
    },
    unfinished: () => [...map.values()].filter((e) => !e.final),
  };
}
