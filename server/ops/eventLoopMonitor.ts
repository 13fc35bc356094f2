// Publishes the p99 event-loop delay of each window: the broker shares this loop, so a stall
// here is a stall for every terminal.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { Metrics } from '../metrics.ts';

export function startEventLoopMonitor(metrics: Metrics, windowMs = 5000): () => void {
  const h = monitorEventLoopDelay({ resolution: 10 });
  h.enable();
  const timer = setInterval(() => {
    metrics.eventLoopLag.set(h.percentile(99) / 1e9);
    h.reset();
  }, windowMs);
  timer.unref();
  return () => {
    clearInterval(timer);
    h.disable();
  };
}
