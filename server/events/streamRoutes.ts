// GET /v1/stream: live events as Server-Sent Events.
//   ?types=fault,device.presence   only these events (a name or a prefix before a dot)
//   ?health=dev_a,dev_b            also `device.health` for these devices (at most 50): their
//                                  samples are published for as long as someone watches them
import { streamSSE } from 'hono/streaming';
import { readers } from '../auth/roleSets.ts';
import { badRequest } from '../errors.ts';
import type { AppRouter } from '../http/types.ts';
import type { EventBus, LiveEventName } from './eventBus.ts';

export const MAX_HEALTH_DEVICES = 50;

const list = (v: string | undefined) =>
  v
    ?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);

function healthDevices(v: string | undefined): Set<string> {
  const ids = new Set(list(v));
  if (ids.size > MAX_HEALTH_DEVICES || [...ids].some((id) => id.length > 64)) {
    throw badRequest('validation_failed', `health: at most ${MAX_HEALTH_DEVICES} device ids`, [{ path: 'health', message: 'too many or too long' }]);
  }
  return ids;
}

export function registerStreamRoutes(app: AppRouter, deps: { bus: EventBus }) {
  app.get('/v1/stream', readers, (c) => {
    const wanted = list(c.req.query('types'));
    const passes = (name: string) => !wanted || wanted.some((w) => name === w || name.startsWith(`${w}.`));
    // Health of only the devices asked for, and only if the type filter lets it through.
    const health = passes('device.health') ? healthDevices(c.req.query('health')) : new Set<string>();
    return streamSSE(c, async (stream) => {
      let id = 0;
      const queue: { name: LiveEventName; data: unknown }[] = [];
      let wake: (() => void) | null = null;
      const off = deps.bus.onAny((name, data) => {
        if (!passes(name)) return;
        if (name === 'device.health' && !health.has((data as { deviceId: string }).deviceId)) return;
        // A slow reader must not grow memory without bound: drop the oldest.
        if (queue.length > 5000) queue.shift();
        queue.push({ name, data });
        wake?.();
      });
      const unwatch = deps.bus.healthWatch.watch(health);
      const stop = () => {
        off();
        unwatch();
      };
      stream.onAbort(() => {
        stop();
        wake?.();
      });
      try {
        // Subscribed before `hello`: a client that saw `hello` misses nothing published after it.
        await stream.writeSSE({ event: 'hello', data: JSON.stringify({ ts: Date.now(), health: [...health] }) });
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
      } finally {
        stop();
      }
    });
  });
}
