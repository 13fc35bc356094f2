// Child process of the `keys` scenario: simulated terminals on raw mqtt.js that do what the
// agent does with keys (SPEC §5): unwrap TMK blocks with their KEK, working keys under the TMK,
// compute the KCV and ack with it. Keys are kept in memory only.
import { createConnection } from 'node:net';
import { MqttClient } from 'mqtt';
import { keyCheckValue } from '../../schemas/keyCrypto/cmac.ts';
import { openTmkBlock, openWorkingBlock, parseBlock, x25519PrivateFromRaw } from '../../schemas/keyCrypto/keyBlock.ts';
import { topicFor } from '../../schemas/wire.ts';
import { type GeneratorRequest, serveGenerator } from './generatorIpc.ts';

export interface KeyDeviceSpec {
  id: string;
  password: string;
  /** base64 raw X25519 private key. */
  kek: string;
}
export type KeysGenRequest = GeneratorRequest<{ host: string; port: number; localAddress: string; devices: KeyDeviceSpec[] }>;
export interface KeysGenStatus {
  connected: number;
  installs: number;
  failures: number;
  errors: string[];
}

const status: KeysGenStatus = { connected: 0, installs: 0, failures: 0, errors: [] };
const clients: MqttClient[] = [];
const note = (m: string) => void (status.errors.length < 20 && status.errors.push(m));

function device(spec: KeyDeviceSpec, host: string, port: number, localAddress: string): Promise<void> {
  const kek = x25519PrivateFromRaw(Buffer.from(spec.kek, 'base64'));
  const tmks = new Map<string, Buffer>();
  const cmdTopic = topicFor(spec.id, 'cmd');
  const client = new MqttClient(() => createConnection({ host, port, localAddress }), {
    protocolVersion: 4,
    clientId: spec.id,
    username: spec.id,
    password: spec.password,
    clean: false,
    keepalive: 120,
    reconnectPeriod: 2000,
    connectTimeout: 60_000,
  });
  clients.push(client);
  const ack = (msg: object) => client.publish(topicFor(spec.id, 'ack'), JSON.stringify(msg), { qos: 1 });
  client.on('message', (topic, payload) => {
    if (topic !== cmdTopic) return;
    let cmd: {
      id: string;
      type: string;
      payload: { items?: Array<{ slot: string; usage: string; keyId: string; version: number; block: string }> };
    };
    try {
      cmd = JSON.parse(payload.toString());
    } catch {
      return note(`${spec.id}: bad command`);
    }
    if (cmd.type !== 'keys.install') return ack({ cmdId: cmd.id, state: 'succeeded' });
    try {
      const installed = (cmd.payload.items ?? []).map((item) => {
        const p = parseBlock(Buffer.from(item.block, 'base64'));
        if (p.header.dev !== spec.id) throw new Error('wrong_device');
        const key = p.header.usage === 'TMK' ? openTmkBlock(p, kek) : openWorkingBlock(p, tmks.get(p.header.wk) ?? Buffer.alloc(32));
        if (p.header.usage === 'TMK') tmks.set(p.header.kid, key);
        return { slot: item.slot, usage: item.usage, keyId: item.keyId, version: item.version, kcv: keyCheckValue(key) };
      });
      status.installs++;
      ack({ cmdId: cmd.id, state: 'succeeded', result: { installed, inventory: [] } });
    } catch (err) {
      status.failures++;
      ack({ cmdId: cmd.id, state: 'failed', error: { code: 'unwrap_failed', message: (err as Error).message } });
    }
  });
  return new Promise((resolve) => {
    let first = true;
    client.on('connect', () => {
      client.publish(topicFor(spec.id, 'state'), JSON.stringify({ online: true, fwVersion: '1.0.0', slot: 'A', ts: Date.now() }), {
        qos: 1,
        retain: true,
      });
      if (!first) return;
      first = false;
      client.subscribe(cmdTopic, { qos: 1 }, () => {
        status.connected++;
        resolve();
      });
    });
    client.on('error', (err) => note(`${spec.id}: ${err.message}`));
  });
}

async function setup(r: Extract<KeysGenRequest, { t: 'setup' }>) {
  let i = 0;
  await Promise.all(
    Array.from({ length: 100 }, async () => {
      while (i < r.devices.length) await device(r.devices[i++]!, r.host, r.port, r.localAddress);
    }),
  );
}

serveGenerator({ setup, status, clients });
