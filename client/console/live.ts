// Live events for Preact pages: main.tsx hands each event of /v1/stream to the subscribers of the
// page on screen; a page subscribes with useLiveEvents and is unsubscribed when it unmounts.
import { useEffect, useRef } from 'preact/hooks';

export type LiveHandler = (name: string, data: Record<string, unknown>) => void;

const handlers = new Set<LiveHandler>();

export const dispatchLive: LiveHandler = (name, data) => {
  for (const h of handlers) h(name, data);
};

export function useLiveEvents(handler: LiveHandler) {
  const latest = useRef(handler);
  latest.current = handler;
  useEffect(() => {
    const h: LiveHandler = (name, data) => latest.current(name, data);
    handlers.add(h);
    return () => void handlers.delete(h);
  }, []);
}
