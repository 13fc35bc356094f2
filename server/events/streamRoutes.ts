// GET /v1/stream: live events as Server-Sent Events.
import { streamSSE } from 'hono/streaming';
import { requireRole } from '../auth/middleware.ts';
import type { AppRouter } from '../http/types.ts';
import type { EventBus, LiveEventName } from './eventBus.ts';

export function registerStreamRoutes(app: AppRouter, deps: { bus: EventBus }) {
  app.get('/v1/stream', requireRole('admin', 'operator', 'technician', 'auditor'), (c) => {
    const wanted = c.req.query('types')?.split(',').filter(Boolean);
    return streamSSE(c, async (stream) => {
      let id = 0;
      const queue: { name: LiveEventName; data: unknown }[] = [];
      let wake: (() => void) | null = null;
      const off = deps.bus.onAny((name, data) => {
        if (wanted && !wanted.some((w) => name === w || name.startsWith(`${w}.`))) return;
        // A slow reader must not grow memory without bound: drop the oldest.
        if (queue.length > 5000) queue.shift();
        queue.push({ name, data });
        wake?.();
      });
      stream.onAbort(off);
      await stream.writeSSE({ event: 'hello', data: JSON.stringify({ ts: Date.now() }) });
      while (!stream.aborted && !stream.closed) {
        if (!queue.length) {
          await new Promise<void>((resolve) => {
            wake = resolve;
            setTimeout(resolve, 15_000);
          });
          wake = null;
          if (!queue.length) {
            await stream.write(': keep-alive\n\n');
            continue;
          }
        }
        const batch = queue.splice(0, queue.length);
        for (const e of batch) await stream.writeSSE({ id: String(++id), event: e.name, data: JSON.stringify(e.data) });
      }
      off();
    });
  });
}
