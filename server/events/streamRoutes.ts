// GET /v1/stream: live events as Server-Sent Events.
//   ?types=fault,device.presence   only these events (a name or a prefix before a dot)
//   ?health=dev_a,dev_b            also `device.health` for these devices (at most 50): their
//                                  samples are published for as long as someone watches them
import { z } from '@hono/zod-openapi';
import { streamSSE } from 'hono/streaming';
import { readers } from '../auth/roleSets.ts';
import { badRequest } from '../errors.ts';
import { refuseInvalid } from '../http/errorHandler.ts';
import type { AppRouter } from '../http/types.ts';
import type { StreamScope } from '../orgs/streamScope.ts';
import type { EventBus, LiveEventName } from './eventBus.ts';

export const MAX_HEALTH_DEVICES = 50;

/**
 * The stream's query (in /openapi.json through ops/opsOpenApi.ts). Not a createRoute, so it is
 * checked here by the validation every route shares: a NUL in `types` was answered 200.
 */
export const streamQuery = z.object({
  types: z.string().optional().openapi({
    description: 'comma-separated event names or prefixes before a dot, e.g. `device,command.updated`',
    example: 'device,command.updated',
  }),
  health: z.string().optional().openapi({
    description: 'comma-separated device ids (at most 50) whose `device.health` samples to add',
    example: 'dev_lvw9CzIgB-zsfMlu',
  }),
});

const list = (v: string | undefined) =>
  v
    ?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);

function healthDevices(v: string | undefined): Set<string> {
  const ids = new Set(list(v));
  if (ids.size > MAX_HEALTH_DEVICES || [...ids].some((id) => id.length > 64)) {
    throw badRequest('validation_failed', `health: at most ${MAX_HEALTH_DEVICES} device ids`, [
      { path: 'health', message: 'too many or too long' },
    ]);
  }
  return ids;
}

export function registerStreamRoutes(app: AppRouter, deps: { bus: EventBus; scope: StreamScope }) {
  app.get('/v1/stream', readers, (c) => {
    const query = streamQuery.safeParse(c.req.query());
    refuseInvalid(query);
    const wanted = list(query.data.types);
    const passes = (name: string) => !wanted || wanted.some((w) => name === w || name.startsWith(`${w}.`));
    // Health of only the devices asked for, and only if the type filter lets it through.
    const health = passes('device.health') ? healthDevices(query.data.health) : new Set<string>();
    const principal = c.get('principal');
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
          for (const e of batch) {
            // Judged here, in order: a caller below the root gets only its subtree's events (server/orgs/streamScope.ts).
            if (!(await deps.scope.visible(principal, e.name, e.data))) continue;
            await stream.writeSSE({ id: String(++id), event: e.name, data: JSON.stringify(e.data) });
          }
        }
      } finally {
        stop();
      }
    });
  });
}
