// How instances of one cluster talk: Redis pub/sub, one channel per kind of message
// (schemas/cluster.ts), broadcast to every peer, plus one channel per instance for requests and
// their replies. Pub/sub delivers at most once and only to instances listening now: everything
// sent here is either a hint whose truth is in PostgreSQL (commands, invalidations) or live
// news that a late listener does not need (events, presence). A single instance gets the solo
// link, which has no peers to tell.
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { clusterChannels, clusterEnvelope, isClusterChannel, type ClusterChannel, type ClusterMessage } from '../../schemas/cluster.ts';
import { AppError, appErrorFromPeer } from '../errors.ts';
import type { Logger } from '../log.ts';

type Handler<C extends ClusterChannel> = (msg: ClusterMessage<C>, from: string) => void;
type RequestHandler = (params: unknown, from: string) => Promise<unknown>;

export interface ClusterLink {
  readonly instanceId: string;
  /** False for the solo link: nothing is sent anywhere. */
  readonly clustered: boolean;
  /** To every other instance (never back to this one). */
  publish<C extends ClusterChannel>(channel: C, msg: ClusterMessage<C>): void;
  on<C extends ClusterChannel>(channel: C, fn: Handler<C>): () => void;
  /** Serves `method` for peers' `call`s; an AppError thrown reaches the caller with its code. */
  serve(method: string, fn: RequestHandler): void;
  /** Asks one instance; rejects with the peer's AppError, or 503 when it does not answer in time. */
  call(instanceId: string, method: string, params: unknown, timeoutMs?: number): Promise<unknown>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export function createSoloLink(instanceId: string): ClusterLink {
  return {
    instanceId,
    clustered: false,
    publish: () => undefined,
    on: () => () => undefined,
    serve: () => undefined,
    call: () => Promise.reject(new AppError(503, 'unavailable', 'no other instance in a single-instance deployment')),
    start: async () => undefined,
    stop: async () => undefined,
  };
}

export interface RedisLinkOptions {
  redisUrl: string;
  /** Channel names start with it: two clusters on one Redis never hear each other. */
  prefix: string;
  instanceId: string;
  log: Logger;
}

const CALL_TIMEOUT_MS = 5_000;

type Parse<C extends ClusterChannel> = (raw: unknown) => { success: true; data: ClusterMessage<C> } | { success: false; error: { issues: unknown[] } };
/** One parser per channel, so a handler of channel C gets C's message type (a mapped type keeps C). */
const parsers: { [C in ClusterChannel]: Parse<C> } = {
  events: (raw) => clusterChannels.events.safeParse(raw),
  watching: (raw) => clusterChannels.watching.safeParse(raw),
  presence: (raw) => clusterChannels.presence.safeParse(raw),
  invalidate: (raw) => clusterChannels.invalidate.safeParse(raw),
  commands: (raw) => clusterChannels.commands.safeParse(raw),
  request: (raw) => clusterChannels.request.safeParse(raw),
  reply: (raw) => clusterChannels.reply.safeParse(raw),
};

export function createRedisLink(opts: RedisLinkOptions): ClusterLink {
  const { instanceId, log } = opts;
  const broadcastChannel = (c: ClusterChannel) => `${opts.prefix}:cluster:${c}`;
  const directChannel = (id: string) => `${opts.prefix}:cluster:to:${id}`;
  const redisOptions = { maxRetriesPerRequest: null, enableReadyCheck: true } as const;
  const pub = new Redis(opts.redisUrl, { ...redisOptions, lazyConnect: true });
  const sub = new Redis(opts.redisUrl, { ...redisOptions, lazyConnect: true });
  for (const conn of [pub, sub]) conn.on('error', (err) => log.warn({ err: err.message }, 'cluster link: redis error'));

  const handlers = new Map<ClusterChannel, Set<(raw: unknown, from: string) => void>>();
  const methods = new Map<string, RequestHandler>();
  const pending = new Map<string, { resolve(v: unknown): void; reject(e: Error): void; timer: NodeJS.Timeout }>();

  function send(redisChannel: string, channel: ClusterChannel, msg: unknown) {
    pub.publish(redisChannel, JSON.stringify({ from: instanceId, channel, msg })).catch((err: unknown) => {
      log.warn({ err, channel }, 'cluster link: publish failed');
    });
  }

  function dispatch(text: string) {
    let envelope;
    try {
      envelope = clusterEnvelope.parse(JSON.parse(text));
    } catch (err) {
      return log.warn({ err }, 'cluster link: unreadable message dropped');
    }
    if (envelope.from === instanceId || !isClusterChannel(envelope.channel)) return;
    for (const h of handlers.get(envelope.channel) ?? []) h(envelope.msg, envelope.from);
  }

  function listen<C extends ClusterChannel>(channel: C, fn: Handler<C>): () => void {
    const handler = (raw: unknown, from: string) => {
      const parsed = parsers[channel](raw);
      if (!parsed.success) return log.warn({ channel, from, issues: parsed.error.issues.slice(0, 3) }, 'cluster link: invalid message dropped');
      try {
        fn(parsed.data, from);
      } catch (err) {
        log.error({ err, channel, from }, 'cluster link: handler failed');
      }
    };
    let set = handlers.get(channel);
    if (!set) handlers.set(channel, (set = new Set()));
    set.add(handler);
    return () => void set.delete(handler);
  }

  listen('request', (req, from) => {
    const method = methods.get(req.method);
    const answer = method
      ? method(req.params, from)
      : Promise.reject(new AppError(503, 'unavailable', `instance ${instanceId} does not serve ${req.method}`));
    answer.then(
      (result) => send(directChannel(from), 'reply', { id: req.id, ok: true, result }),
      (err: unknown) => {
        const error =
          err instanceof AppError
            ? { status: err.status, code: err.code, message: err.message }
            : { status: 503, code: 'unavailable', message: err instanceof Error ? err.message : String(err) };
        if (!(err instanceof AppError)) log.error({ err, method: req.method }, 'cluster link: request failed');
        send(directChannel(from), 'reply', { id: req.id, ok: false, error });
      },
    );
  });
  listen('reply', (rep) => {
    const waiting = pending.get(rep.id);
    if (!waiting) return;
    pending.delete(rep.id);
    clearTimeout(waiting.timer);
    if (rep.ok) waiting.resolve(rep.result);
    else waiting.reject(appErrorFromPeer(rep.error?.status ?? 503, rep.error?.code ?? 'unavailable', rep.error?.message ?? 'the peer failed'));
  });

  return {
    instanceId,
    clustered: true,
    publish(channel, msg) {
      send(broadcastChannel(channel), channel, msg);
    },
    on: listen,
    serve(method, fn) {
      methods.set(method, fn);
    },
    call(target, method, params, timeoutMs = CALL_TIMEOUT_MS) {
      const id = randomUUID();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(new AppError(503, 'unavailable', `instance ${target} did not answer ${method} within ${timeoutMs} ms`));
        }, timeoutMs);
        pending.set(id, { resolve, reject, timer });
        send(directChannel(target), 'request', { id, method, params });
      });
    },
    async start() {
      await Promise.all([pub.connect(), sub.connect()]);
      sub.on('message', (_channel: string, text: string) => dispatch(text));
      const channels = Object.keys(clusterChannels).filter(isClusterChannel);
      await sub.subscribe(...channels.filter((c) => c !== 'request' && c !== 'reply').map(broadcastChannel), directChannel(instanceId));
    },
    async stop() {
      for (const [id, p] of pending) {
        clearTimeout(p.timer);
        p.reject(new AppError(503, 'unavailable', 'this instance is stopping'));
        pending.delete(id);
      }
      await Promise.all([pub, sub].map((c) => c.quit().catch(() => c.disconnect())));
    },
  };
}
