// The message bus of aedes in cluster mode: the brokers of all instances joined by
// mqemitter-redis, aedes' own Redis emitter, but only for the topics clusterRouting.ts lets
// cross (commands, takeover notices); everything else runs in an in-process mqemitter, as it
// does for a single instance. aedes uses its bus only through on, removeListener, emit and close.
import { EventEmitter } from 'node:events';
import { Redis } from 'ioredis';
import mqemitter, { type Message } from 'mqemitter';
import MQEmitterRedis from 'mqemitter-redis';
import { AppError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { crossesInstances, staysLocal } from './clusterRouting.ts';

export type Listener = (message: Message, done: () => void) => void;

/** What aedes asks of the `mq` it is given (aedes.js: subscribe, unsubscribe, publish, close). */
export interface BrokerEmitter {
  readonly concurrency: number;
  /** Deliveries under way. */
  readonly current: number;
  on(topic: string, fn: Listener, cb?: () => void): void;
  removeListener(topic: string, fn: Listener, cb?: () => void): void;
  emit(message: Message, cb?: (err?: Error) => void): void;
  close(cb?: () => void): void;
}

export interface ClusterEmitter extends BrokerEmitter {
  /**
   * Resolves once both Redis connections are up; emits across instances fail before that. Never
   * rejects (ioredis retries until Redis answers): bound the wait where it is awaited.
   */
  ready(): Promise<void>;
}

export interface ClusterEmitterOptions {
  redisUrl: string;
  /** One level of letters, digits and `._:-`; channels are `<keyPrefix>/<topic>`. */
  keyPrefix: string;
  log: Logger;
  /** As the broker's aedes concurrency in mqttBroker.ts. */
  concurrency?: number;
  /** The longest an emit, subscription or close waits for Redis. */
  redisTimeoutMs?: number;
  /** The clock takeover notices are stamped and compared with (tests move it). */
  now?: () => number;
}

const noop = () => undefined;

const NEW_CLIENTS = /^\$SYS\/[^/]+\/new\/clients$/;
/** Longer than any Redis delivery: a notice that late is not worth guarding against. */
const ANNOUNCED_KEPT_MS = 30_000;

/**
 * aedes closes its own session of a client id whenever another instance announces that id
 * (`closeSameClients` in aedes.js). A notice still on its way through Redis when the terminal has
 * already reconnected here would close the newest session too, leaving none. So each notice
 * carries when it was sent, and one sent before this instance announced the same id is stale and
 * dropped. Compared across hosts' clocks: skew beyond Redis' latency at worst costs the terminal
 * one reconnect, which is what happened without the guard.
 */
function takeoverNotices(now: () => number) {
  const announced = new Map<string, number>();
  const prune = (t: number) => {
    for (const [id, at] of announced) {
      if (t - at < ANNOUNCED_KEPT_MS) break;
      announced.delete(id);
    }
  };
  return {
    /** A notice of this instance on its way out: stamped, and its client id remembered. */
    stamp(message: Message): Message {
      if (!NEW_CLIENTS.test(message.topic)) return message;
      const t = now();
      const id = String(message.payload);
      announced.delete(id); // re-inserted last, so the map stays in announcement order for prune
      announced.set(id, t);
      prune(t);
      return { ...message, sentAt: t };
    },
    /** Whether a notice from Redis was sent before this instance's own announcement of its id. */
    stale(message: Message): boolean {
      if (!NEW_CLIENTS.test(message.topic)) return false;
      const mine = announced.get(String(message.payload));
      const sentAt: unknown = message.sentAt;
      return mine !== undefined && typeof sentAt === 'number' && sentAt < mine;
    },
  };
}

export function createClusterEmitter(opts: ClusterEmitterOptions): ClusterEmitter {
  const { log, keyPrefix } = opts;
  // The prefix is a topic level of its own, so `#` and `+` filters still match under it, and
  // it must hold no wildcard of MQTT or of Redis' PSUBSCRIBE glob.
  if (!/^[A-Za-z0-9._:-]{1,64}$/.test(keyPrefix))
    throw new Error(`cluster emitter keyPrefix ${JSON.stringify(keyPrefix)}: 1 to 64 of A-Z a-z 0-9 . _ : -`);
  const concurrency = opts.concurrency ?? 1000;
  const timeoutMs = opts.redisTimeoutMs ?? 3000;
  const local = mqemitter({ concurrency, matchEmptyLevels: true });
  const notices = takeoverNotices(opts.now ?? Date.now);

  const connect = (role: string, extra: { enableOfflineQueue?: boolean }) => {
    const c = new Redis(opts.redisUrl, {
      maxRetriesPerRequest: null,
      enableReadyCheck: true,
      connectionName: `${keyPrefix}:mq-${role}`,
      ...extra,
    });
    c.on('error', (err) => log.warn({ err: err.message, role }, 'cluster emitter redis connection error'));
    return c;
  };
  // mqemitter-redis' emit waits for the PUBLISH reply, and with maxRetriesPerRequest: null ioredis
  // would hold a PUBLISH in its offline queue for as long as Redis is away, so the emit would
  // never call back; and sent after the outage, a stale takeover notice could close a session
  // that is by then the newest. Without the offline queue an emit fails at once while the link is
  // down, and the timer below bounds one that was written just before the link went away.
  // Subscriptions keep the queue: they are sent, and resent, when Redis is back.
  const pubConn = connect('pub', { enableOfflineQueue: false });
  const subConn = connect('sub', {});
  const remote = MQEmitterRedis({ pubConn, subConn, concurrency, matchEmptyLevels: true });
  // mqemitter-redis re-emits every connection error on `state`; an EventEmitter without an
  // 'error' listener throws, which would crash the server on the first Redis hiccup. Logged above.
  if ('state' in remote && remote.state instanceof EventEmitter) remote.state.on('error', noop);

  const prefix = `${keyPrefix}/`;
  // A listener gets topics as aedes knows them; mqemitter-redis calls the wrapper registered for
  // it, found again on removeListener.
  const wrappers = new Map<Listener, Map<string, Listener>>();
  const wrapperFor = (fn: Listener, topic: string) => {
    let byTopic = wrappers.get(fn);
    if (!byTopic) wrappers.set(fn, (byTopic = new Map()));
    let w = byTopic.get(topic);
    if (!w)
      byTopic.set(
        topic,
        (w = (message, done) => {
          const unprefixed = { ...message, topic: message.topic.slice(prefix.length) };
          if (notices.stale(unprefixed)) return done();
          fn(unprefixed, done);
        }),
      );
    return w;
  };
  const dropWrapper = (fn: Listener, topic: string) => {
    const byTopic = wrappers.get(fn);
    const w = byTopic?.get(topic);
    byTopic?.delete(topic);
    if (byTopic?.size === 0) wrappers.delete(fn);
    return w;
  };

  /** `cb` once, after Redis answered or `timeoutMs` passed: a SUBACK must not wait for an outage. */
  const bounded = (what: string, topic: string, cb: () => void) => {
    let pending = true;
    const timer = setTimeout(() => {
      pending = false;
      log.warn({ topic, timeoutMs }, `cluster emitter ${what} not confirmed by Redis in time; it takes effect when Redis answers`);
      cb();
    }, timeoutMs);
    return () => {
      if (!pending) return;
      pending = false;
      clearTimeout(timer);
      cb();
    };
  };

  /** Calls `cb` once all of `count` parts have called back. */
  const joined = (count: number, cb: () => void) => {
    let left = count;
    return () => {
      if (--left === 0) cb();
    };
  };

  // A filter that could match topics of both kinds listens on both buses: each concrete topic is
  // emitted on exactly one of them, so such a listener (`#` or `+/…`: aedes' own, as the ACL
  // refuses them to terminals) still hears every message once, local telemetry included.
  const busesFor = (topic: string) => ({ remote: crossesInstances(topic), local: staysLocal(topic) });

  let closed = false;
  return {
    concurrency,
    get current() {
      return local.current + remote.current;
    },
    on(topic, fn, cb = noop) {
      const buses = busesFor(topic);
      const done = joined(Number(buses.remote) + Number(buses.local), cb);
      if (buses.local) local.on(topic, fn, done);
      if (buses.remote) remote.on(prefix + topic, wrapperFor(fn, topic), bounded('subscription', topic, done));
    },
    removeListener(topic, fn, cb = noop) {
      const buses = busesFor(topic);
      const w = buses.remote ? dropWrapper(fn, topic) : undefined;
      const done = joined(Number(buses.local) + Number(w !== undefined), cb);
      if (buses.local) local.removeListener(topic, fn, done);
      if (w) remote.removeListener(prefix + topic, w, bounded('unsubscription', topic, done));
      else if (!buses.local) setImmediate(cb);
    },
    emit(message, cb = noop) {
      if (!crossesInstances(message.topic)) return local.emit(message, cb);
      if (closed) return cb(new AppError(503, 'unavailable', 'the cluster emitter is closed'));
      let pending = true;
      const finish = (err?: Error) => {
        if (!pending) return;
        pending = false;
        clearTimeout(timer);
        cb(
          err &&
            new AppError(503, 'unavailable', `cluster message on ${message.topic} not sent: ${err.message}`, undefined, { cause: err }),
        );
      };
      const timer = setTimeout(() => finish(new Error(`Redis did not confirm within ${timeoutMs} ms`)), timeoutMs);
      const stamped = notices.stamp(message);
      remote.emit({ ...stamped, topic: prefix + stamped.topic }, finish);
    },
    close(cb = noop) {
      if (closed) return void setImmediate(cb);
      closed = true;
      // Not mqemitter-redis' close: it waits for both connections' 'end' after QUIT, which never
      // comes while Redis is away (and a QUIT refused without the offline queue goes unhandled).
      const quit = (c: Redis) =>
        Promise.race([c.quit().catch(noop), new Promise((ok) => setTimeout(ok, timeoutMs).unref())]).finally(() => c.disconnect());
      local.close(() => void Promise.all([quit(pubConn), quit(subConn)]).then(() => cb()));
    },
    ready() {
      const up = (c: Redis) => (c.status === 'ready' ? Promise.resolve() : new Promise<void>((ok) => c.once('ready', () => ok())));
      return Promise.all([up(pubConn), up(subConn)]).then(noop);
    },
  };
}
