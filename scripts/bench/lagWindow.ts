// Event-loop delay p99 over rolling ~5 s windows: the same definition the server's
// posfleet_event_loop_lag_p99_seconds uses, so the raw-aedes figure is comparable.
import { monitorEventLoopDelay } from 'node:perf_hooks';

export function lagWindow(windowMs = 5000): { p99Ms: () => number; maxMsSince: () => number; resetMax: () => void; stop: () => void } {
  const window = monitorEventLoopDelay({ resolution: 10 });
  const sinceReset = monitorEventLoopDelay({ resolution: 10 });
  window.enable();
  sinceReset.enable();
  let last = 0;
  const timer = setInterval(() => {
    last = window.percentile(99) / 1e6;
    window.reset();
  }, windowMs);
  timer.unref();
  return {
    p99Ms: () => last,
    maxMsSince: () => sinceReset.max / 1e6,
    resetMax: () => sinceReset.reset(),
    stop: () => {
      clearInterval(timer);
      window.disable();
      sinceReset.disable();
    },
  };
}
