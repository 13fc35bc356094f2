// Command fan-out: one command to every device, timed until every device's ack is in.
// Ours goes through the API and the command pipeline; raw aedes only routes MQTT, so a
// publisher client plays the server there.
import { createConnection } from 'node:net';
import { MqttClient } from 'mqtt';
import type { Api } from './api.ts';
import type { LoadgenPool } from './pool.ts';
import { topicFor, TOPIC_PREFIX } from '../../schemas/wire.ts';
import { pollUntil, withTimeout } from './util.ts';

export interface FanoutResult {
  devices: number;
  allAckedMs: number | null;
  /** Acked / total when the time ran out (or at the end). */
  acked: number;
  finalCounts?: Record<string, number>;
  /**
   * Ours: ms from the request until it was answered (the batch stored) and until the polls first
   * saw 1 %, 50 % and 90 % of the fleet succeeded: where the time goes, storing or sending.
   */
  milestones?: { answeredMs: number; firstPctMs?: number; halfMs?: number; ninetyPctMs?: number };
  error?: string;
}

/** Ours: POST /v1/commands to the whole fleet, poll the batch every 25 ms until all succeeded. */
export async function fanoutPosfleet(api: Api, devices: number, timeoutMs: number): Promise<FanoutResult> {
  const started = performance.now();
  const { batchId, total } = await api.sendCommand({ target: { filter: {} }, type: 'diag.run', payload: {} });
  const since = () => Math.round(performance.now() - started);
  const milestones: NonNullable<FanoutResult['milestones']> = { answeredMs: since() };
  let last: Record<string, number> = {};
  try {
    await pollUntil(
      async () => {
        const b = await api.batch(batchId);
        last = b.counts;
        const done = b.counts.succeeded ?? 0;
        if (done >= total * 0.01) milestones.firstPctMs ??= since();
        if (done >= total * 0.5) milestones.halfMs ??= since();
        if (done >= total * 0.9) milestones.ninetyPctMs ??= since();
        return done >= total ? true : undefined;
      },
      { everyMs: 25, timeoutMs, what: 'all commands succeeded' },
    );
    return { devices: total, allAckedMs: since(), acked: total, finalCounts: last, milestones };
  } catch (err) {
    const error = err instanceof Error ? err.message : String(err);
    return { devices: total || devices, allAckedMs: null, acked: last.succeeded ?? 0, finalCounts: last, milestones, error };
  }
}

function connectClient(port: number, localAddress: string, clientId: string): Promise<MqttClient> {
  const client = new MqttClient(() => createConnection({ host: '127.0.0.1', port, localAddress }), {
    protocolVersion: 4,
    clientId,
    clean: true,
    reconnectPeriod: 0,
    manualConnect: true,
  });
  const connected = new Promise<MqttClient>((resolve, reject) => {
    client.once('connect', () => resolve(client));
    client.once('error', reject);
  });
  client.connect();
  return withTimeout(connected, 10_000, `connect ${clientId}`);
}

/** Raw aedes: a publisher sends each device its command; a subscriber on fleet/v1/+/ack counts. */
export async function fanoutRaw(port: number, localAddress: string, deviceIds: readonly string[], timeoutMs: number): Promise<FanoutResult> {
  const publisher = await connectClient(port, localAddress, `bench-pub-${process.pid}`);
  const subscriber = await connectClient(port, localAddress, `bench-sub-${process.pid}`);
  try {
    await new Promise<void>((resolve, reject) =>
      subscriber.subscribe(`${TOPIC_PREFIX}/+/ack`, { qos: 1 }, (err) => (err ? reject(err) : resolve())),
    );
    const expected = new Set<string>();
    const acked = new Set<string>();
    let allIn: () => void = () => {};
    const done = new Promise<void>((resolve) => (allIn = resolve));
    subscriber.on('message', (_topic, payload) => {
      try {
        const ack: unknown = JSON.parse(payload.toString('utf8'));
        const id = typeof ack === 'object' && ack !== null && 'cmdId' in ack ? ack.cmdId : undefined;
        if (typeof id === 'string' && expected.has(id)) acked.add(id);
      } catch {
        return;
      }
      if (acked.size === expected.size) allIn();
    });
    const started = performance.now();
    const issuedAt = Date.now();
    for (const [i, id] of deviceIds.entries()) {
      const cmdId = `bench-${i}`;
      expected.add(cmdId);
      publisher.publish(topicFor(id, 'cmd'), JSON.stringify({ id: cmdId, type: 'diag.run', issuedAt, payload: {} }), { qos: 1 });
    }
    try {
      await withTimeout(done, timeoutMs, 'all acks');
      return { devices: deviceIds.length, allAckedMs: Math.round(performance.now() - started), acked: acked.size };
    } catch (err) {
      return { devices: deviceIds.length, allAckedMs: null, acked: acked.size, error: err instanceof Error ? err.message : String(err) };
    }
  } finally {
    publisher.end(true);
    subscriber.end(true);
  }
}

/** Devices that saw a command and had their ack PUBACKed, for a cross-check. */
export async function fleetAcks(pool: LoadgenPool): Promise<{ cmdsReceived: number; acksConfirmed: number }> {
  const st = await pool.all(() => ({ t: 'status' }), 30_000);
  return {
    cmdsReceived: st.reduce((n, s) => n + s.cmdsReceived, 0),
    acksConfirmed: st.reduce((n, s) => n + s.acksConfirmed, 0),
  };
}
