// One summary answer of the overview: loaded on mount, reloaded on demand (a live event); a failed
// reload sets the error beside the last answer; an answer arriving after a newer request or after the
// page left is dropped.
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';

export interface Summary<T> {
  data: T | null;
  error: unknown;
  reload(): void;
}

/** `load` null: the route is not in this build, nothing is asked. */
export function useSummary<T>(load: (() => Promise<T>) | null): Summary<T> {
  const [state, setState] = useState<{ data: T | null; error: unknown }>({ data: null, error: null });
  const seq = useRef(0);
  const latest = useRef(load);
  latest.current = load;
  const reload = useCallback(() => {
    const fn = latest.current;
    if (!fn) return;
    const mine = ++seq.current;
    fn().then(
      (data) => mine === seq.current && setState({ data, error: null }),
      (error: unknown) => mine === seq.current && setState((s) => ({ data: s.data, error })),
    );
  }, []);
  useEffect(() => {
    reload();
    return () => void seq.current++;
  }, []);
  return { ...state, reload };
}
