// Live events arrive in bursts (a fleet-wide command, a rollout phase): a page redraws or reloads
// at most once per interval, and the last call of a burst is always honoured (trailing).
export function throttle(fn: () => void, ms: number): () => void {
  let timer: ReturnType<typeof setTimeout> | null = null;
  let last = 0;
  return () => {
    if (timer) return;
    timer = setTimeout(
      () => {
        timer = null;
        last = Date.now();
        fn();
      },
      Math.max(0, last + ms - Date.now()),
    );
  };
}
