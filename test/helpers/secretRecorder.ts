// Records everything a key test's run let out, for the secret scan (secretScan.ts): each API
// answer the test read (with what it asked), each line the server logged (the test server's
// `capture`), each line the agents logged, each live-stream event (/v1/stream) and each MQTT
// PUBLISH both ways between agents and server (mqttTap.ts). A key block's `block` field is
// ciphertext by design and is left out of the scan; everything else of those commands is scanned.
//
//   const rec = await startSecretRecorder(t);                      // t started with capture: true
//   await startTestFleet(t, { ..., mqttUrl: rec.mqttUrl, log: rec.agentLog });
//   await rec.api('GET', '/v1/audit');  …  assertNoLeaks(rec.captured(), secrets.list());
import pino, { type Logger } from 'pino';
import type { Api, ApiRequestOptions } from './apiClient.ts';
import { openLiveStream, type LiveStream } from './liveStream.ts';
import { startMqttTap, type MqttTap } from './mqttTap.ts';
import type { Captured } from './secretScan.ts';
import type { TestServer } from './testServer.ts';

export interface SecretRecorder {
  /** The test server's API client; every answer is kept with its request line and status. */
  api: Api;
  /** For the agents (trace level): every line is kept. */
  agentLog: Logger;
  /** The agents' MQTT URL: the recording relay. */
  mqttUrl: string;
  readonly tap: MqttTap;
  /** How many key blocks were left out of the MQTT payloads scanned (one per `block` field). */
  blocksLeftOut(): number;
  /** Everything recorded so far, each with where it was seen. */
  captured(): Captured[];
  /** Closes the live stream and the relay. */
  close(): Promise<void>;
}

/** A command payload with every `block` (a key block, ciphertext) replaced by a marker, at any depth. */
function withoutBlocks(value: unknown, count: { n: number }): unknown {
  if (Array.isArray(value)) return value.map((v) => withoutBlocks(v, count));
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => {
      if (k !== 'block' || typeof v !== 'string') return [k, withoutBlocks(v, count)];
      count.n++;
      return [k, '[block: not scanned]'];
    }),
  );
}

function parsedOrText(payload: Buffer): unknown {
  const text = payload.toString('utf8');
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export async function startSecretRecorder(t: TestServer): Promise<SecretRecorder> {
  if (!t.config.LOG_LEVEL || t.config.LOG_LEVEL === 'silent')
    throw new Error('start the test server with capture: true: its log lines are part of the scan');
  const answers: Captured[] = [];
  const agentLines: string[] = [];
  const tap = await startMqttTap(() => t.started.mqttPort ?? 0);
  const stream: LiveStream = openLiveStream(t.url);
  await stream.ready;
  if (stream.status() !== 200) throw new Error(`the live stream answered ${stream.status()}`);

  const api: Api = async <T>(method: string, path: string, body?: unknown, opts?: ApiRequestOptions) => {
    const r = await t.api<T>(method, path, body, opts);
    answers.push({ where: `${method} ${path} → ${r.status}`, text: r.text });
    return r;
  };

  const mqtt = () => {
    const count = { n: 0 };
    const captured = tap.publishes.map((p, i): Captured => {
      const body = p.direction === 'to agent' ? withoutBlocks(parsedOrText(p.payload), count) : parsedOrText(p.payload);
      return {
        where: `mqtt ${p.direction} #${i} on ${p.topic}`,
        text: `${p.topic} ${typeof body === 'string' ? body : JSON.stringify(body)}`,
      };
    });
    return { captured, blocks: count.n };
  };

  return {
    api,
    agentLog: pino({ level: 'trace' }, { write: (line: string) => void agentLines.push(line) }),
    mqttUrl: tap.url,
    tap,
    blocksLeftOut: () => mqtt().blocks,
    captured: () => [
      ...answers,
      ...t.logLines.map((text, i) => ({ where: `server log line ${i}`, text })),
      ...agentLines.map((text, i) => ({ where: `agent log line ${i}`, text })),
      ...stream.events.map((e, i) => ({ where: `stream event ${i} (${e.event})`, text: JSON.stringify(e.data) })),
      ...mqtt().captured,
    ],
    async close() {
      stream.close();
      await tap.close();
    },
  };
}
