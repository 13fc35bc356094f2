// Live events that only say "something changed": a burst of campaign.device events (one per
// terminal) becomes one reload a second at most, the last event always honoured.
import { useEffect, useRef } from 'preact/hooks';
import { useLiveEvents } from '../../live.ts';

export function useThrottledLive(matches: (name: string, data: Record<string, unknown>) => boolean, reload: () => void, ms = 1000) {
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const last = useRef(0);
  const latest = useRef(reload);
  latest.current = reload;
  useEffect(() => () => void (timer.current && clearTimeout(timer.current)), []);
  useLiveEvents((name, data) => {
    if (!matches(name, data) || timer.current) return;
    const wait = Math.max(0, last.current + ms - Date.now());
    timer.current = setTimeout(() => {
      timer.current = null;
      last.current = Date.now();
      latest.current();
    }, wait);
  });
}
