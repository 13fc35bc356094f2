// Cursor paging over a list route: the cursor of every page shown so far, so Previous goes back
// without the server keeping state; `reload` asks the same page again (a live event, a resumed stream).
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';

export interface CursorPage<T> {
  items: T[];
  nextCursor: string | null;
}

export function usePaged<T>(fetchPage: (cursor: string | undefined) => Promise<CursorPage<T>>, deps: unknown[]) {
  const cursors = useRef<(string | null)[]>([null]);
  const [index, setIndex] = useState(0);
  const [page, setPage] = useState<CursorPage<T> | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(true);
  const [nonce, setNonce] = useState(0);
  const seq = useRef(0);

  // New filters start again at the first page.
  useEffect(() => {
    cursors.current = [null];
    setIndex(0);
    setNonce((n) => n + 1);
  }, deps);

  useEffect(() => {
    const mine = ++seq.current;
    setBusy(true);
    fetchPage(cursors.current[index] ?? undefined)
      .then((p) => {
        if (mine !== seq.current) return; // an older answer arriving late
        cursors.current[index + 1] = p.nextCursor;
        setPage(p);
        setError(null);
      })
      .catch((err: unknown) => mine === seq.current && setError(err))
      .finally(() => mine === seq.current && setBusy(false));
  }, [index, nonce]);

  const reload = useCallback(() => setNonce((n) => n + 1), []);
  return { page, error, busy, index, go: setIndex, reload, hasNext: Boolean(page?.nextCursor) };
}
