// Presence of the terminals on the map as /v1/stream tells it (device.presence), gathered and
// handed on at most once a second: each hand-over redraws the map, and a fleet of 10,000 can send
// many changes a second when a site loses its network.
import { useEffect, useRef, useState } from 'preact/hooks';
import { useLiveEvents } from '../../live.ts';
import type { Presence, TerminalPoint } from './mapData.ts';

const FLUSH_MS = 1000;

export function useLivePresence(): Record<string, Presence> {
  const [presence, setPresence] = useState<Record<string, Presence>>({});
  const pending = useRef<Record<string, Presence>>({});
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);

  useEffect(
    () => () => {
      if (timer.current) clearTimeout(timer.current);
    },
    [],
  );

  useLiveEvents((name, data) => {
    if (name !== 'device.presence' || typeof data.deviceId !== 'string' || typeof data.online !== 'boolean') return;
    pending.current[data.deviceId] = data.online ? 'online' : 'offline';
    timer.current ??= setTimeout(() => {
      timer.current = null;
      const changes = pending.current;
      pending.current = {};
      setPresence((p) => ({ ...p, ...changes }));
    }, FLUSH_MS);
  });

  return presence;
}

/** The points with the presence the stream told since they were loaded. */
export function withPresence(points: TerminalPoint[], presence: Record<string, Presence>): TerminalPoint[] {
  if (!Object.keys(presence).length) return points;
  return points.map((p) => {
    const now = presence[p.id];
    return now && now !== p.presence ? { ...p, presence: now } : p;
  });
}
