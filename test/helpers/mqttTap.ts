// A recording TCP relay between agents and the test server's MQTT listener: agents are pointed at
// it (the fleet's `mqttUrl`), it forwards every byte both ways unchanged and parses both streams
// with mqtt-packet, keeping every PUBLISH. It records what went over the wire, whatever the server
// does inside, and keeps listening across a server restart (it dials the upstream port anew for
// each connection, retrying while the server is down, so an agent never falls back to the server's
// own URL, which nothing would record).
import { connect, createServer, type Server, type Socket } from 'node:net';
import { parser } from 'mqtt-packet';

export interface TappedPublish {
  /** `to agent`: the server published it (commands, trust); `to server`: an agent did (acks, health). */
  direction: 'to agent' | 'to server';
  topic: string;
  payload: Buffer;
}

export interface MqttTap {
  /** Where agents connect instead of the server. */
  readonly url: string;
  readonly publishes: readonly TappedPublish[];
  /** Streams mqtt-packet could not parse: a scan over what was parsed would miss something. */
  readonly errors: readonly string[];
  close(): Promise<void>;
}

/** The agents speak MQTT 3.1.1 (agent/link.ts). */
const PROTOCOL_VERSION = 4;
const UPSTREAM_RETRY_MS = 100;
const UPSTREAM_GIVE_UP_MS = 60_000;

function dial(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.off('error', reject);
      resolve(s);
    });
    s.once('error', reject);
  });
}

export async function startMqttTap(upstreamPort: () => number): Promise<MqttTap> {
  const publishes: TappedPublish[] = [];
  const errors: string[] = [];
  const sockets = new Set<Socket>();
  let closing = false;

  function record(from: Socket, direction: TappedPublish['direction']) {
    const decode = parser({ protocolVersion: PROTOCOL_VERSION });
    decode.on('packet', (p) => {
      if (p.cmd !== 'publish') return;
      publishes.push({ direction, topic: p.topic, payload: Buffer.isBuffer(p.payload) ? p.payload : Buffer.from(p.payload) });
    });
    decode.on('error', (err) => void errors.push(`${direction}: ${err.message}`));
    from.on('data', (chunk) => void decode.parse(chunk));
  }

  async function upstreamFor(agent: Socket): Promise<Socket | undefined> {
    const until = Date.now() + UPSTREAM_GIVE_UP_MS;
    for (;;) {
      if (agent.destroyed || closing) return undefined;
      try {
        return await dial(upstreamPort());
      } catch (err) {
        if (Date.now() > until) {
          errors.push(`upstream unreachable for ${UPSTREAM_GIVE_UP_MS} ms: ${String(err)}`);
          return undefined;
        }
        await new Promise((r) => setTimeout(r, UPSTREAM_RETRY_MS));
      }
    }
  }

  // The agent's bytes wait in its socket (paused until a reader attaches) while the server is dialled.
  async function relay(agent: Socket) {
    sockets.add(agent);
    agent.on('error', () => agent.destroy());
    agent.on('close', () => sockets.delete(agent));
    const server = await upstreamFor(agent);
    if (!server) return void agent.destroy();
    sockets.add(server);
    server.on('error', () => server.destroy());
    server.on('close', () => {
      sockets.delete(server);
      agent.destroy();
    });
    agent.on('close', () => server.destroy());
    record(agent, 'to server');
    record(server, 'to agent');
    agent.pipe(server);
    server.pipe(agent);
  }

  const listener: Server = createServer((agent) => void relay(agent));
  await new Promise<void>((resolve, reject) => {
    listener.once('error', reject);
    listener.listen(0, '127.0.0.1', () => resolve());
  });
  const address = listener.address();
  if (!address || typeof address === 'string') throw new Error('the MQTT tap has no TCP port');

  return {
    url: `mqtt://127.0.0.1:${address.port}`,
    publishes,
    errors,
    async close() {
      closing = true;
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => listener.close(() => resolve()));
    },
  };
}
