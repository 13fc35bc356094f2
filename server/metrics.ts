// Prometheus metrics, one registry per server instance so tests can run several side by side.
import { readdir } from 'node:fs/promises';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { devicePublishKinds, type DevicePublishKind } from '../schemas/wire.ts';

export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'posfleet_' });
  // These list every libuv handle on each scrape: with 10,000 terminal sockets that cost ~8% of the
  // broker's CPU under load at one scrape a second, to report what posfleet_connected_devices and
  // process_open_fds already say. process_open_fds itself lists /proc/self/fd synchronously on the
  // broker's thread; it is replaced below by the same gauge listed off the thread.
  for (const costly of ['process_open_fds', 'nodejs_active_handles', 'nodejs_active_handles_total', 'nodejs_active_requests', 'nodejs_active_requests_total', 'nodejs_active_resources', 'nodejs_active_resources_total']) {
    registry.removeSingleMetric(`posfleet_${costly}`);
  }
  // Sizes of the in-memory buffers (write-behind rows, commands tracked until final), asked of
  // their owners at each scrape: a long run shows whether any of them grows without end.
  const bufferSizes = new Map<string, () => number>();
  // Accepted messages are counted as plain numbers and folded into their counter at each scrape:
  // a labelled inc hashes and checks its labels every time, which showed in the ingest profile.
  const acceptedSinceScrape: Record<DevicePublishKind, number> = { state: 0, health: 0, event: 0, ack: 0 };
  const m = {
    registry,
    connectedDevices: new Gauge({ name: 'posfleet_connected_devices', help: 'Devices connected to the broker', registers: [registry] }),
    connectsTotal: new Counter({ name: 'posfleet_mqtt_connects_total', help: 'MQTT connection attempts by result', labelNames: ['result'], registers: [registry] }),
    admissionRefused: new Counter({
      name: 'posfleet_mqtt_admission_refused_total',
      help: 'New MQTT connections answered CONNACK 3 before authentication: too many authentications in progress (pending) or per second (rate)',
      labelNames: ['reason'],
      registers: [registry],
    }),
    messagesIn: new Counter({
      name: 'posfleet_messages_in_total',
      help: 'Device messages accepted, by topic kind',
      labelNames: ['kind'],
      registers: [registry],
      collect() {
        for (const kind of devicePublishKinds) {
          if (acceptedSinceScrape[kind] === 0) continue;
          this.inc({ kind }, acceptedSinceScrape[kind]);
          acceptedSinceScrape[kind] = 0;
        }
      },
    }),
    /** One more message of `kind` accepted (`posfleet_messages_in_total`); called for every device message. */
    countAccepted: (kind: DevicePublishKind): void => void (acceptedSinceScrape[kind] += 1),
    messagesOut: new Counter({ name: 'posfleet_messages_out_total', help: 'Messages sent to devices, by kind', labelNames: ['kind'], registers: [registry] }),
    dropped: new Counter({ name: 'posfleet_messages_dropped_total', help: 'Device messages dropped, by reason', labelNames: ['reason'], registers: [registry] }),
    writeBehindDropped: new Counter({
      name: 'posfleet_write_behind_dropped_total',
      help: 'Write-behind rows dropped as never writable, by buffer and reason: unserialisable (JSON cannot hold it) or refused (the database refuses that row alone)',
      labelNames: ['buffer', 'reason'],
      registers: [registry],
    }),
    queueDepth: new Gauge({ name: 'posfleet_queue_depth', help: 'Jobs waiting per queue', labelNames: ['queue'], registers: [registry] }),
    jobLatency: new Histogram({
      name: 'posfleet_job_latency_seconds',
      help: 'Time from enqueue to completion, per queue',
      labelNames: ['queue'],
      buckets: [0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    commandsByState: new Counter({ name: 'posfleet_command_transitions_total', help: 'Command state transitions', labelNames: ['state'], registers: [registry] }),
    dbFlushSeconds: new Histogram({
      name: 'posfleet_db_flush_seconds',
      help: 'Duration of batched telemetry writes',
      labelNames: ['table'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    openFds: new Gauge({
      name: 'posfleet_process_open_fds',
      help: 'Number of open file descriptors.',
      registers: [registry],
      async collect() {
        // Linux only, as prom-client's own; elsewhere the gauge stays unset.
        const fds = await readdir('/proc/self/fd').catch(() => null);
        if (fds) this.set(fds.length - 1); // minus the descriptor the listing itself held
      },
    }),
    eventLoopLag: new Gauge({ name: 'posfleet_event_loop_lag_p99_seconds', help: 'p99 event-loop delay over the last interval', registers: [registry] }),
    buffered: new Gauge({
      name: 'posfleet_buffered_items',
      help: 'Items held in memory per buffer: rows waiting for a write-behind, commands tracked until final',
      labelNames: ['buffer'],
      registers: [registry],
      collect() {
        for (const [buffer, size] of bufferSizes) this.set({ buffer }, size());
      },
    }),
    /** Has `posfleet_buffered_items{buffer}` report `size()` at every scrape. */
    watchBuffer: (buffer: string, size: () => number): void => void bufferSizes.set(buffer, size),
  };
  return m;
}

export type Metrics = ReturnType<typeof createMetrics>;
