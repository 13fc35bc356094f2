// Test devices: registered and enrolled through the real API, connected with real mqtt.js.
import { generateKeyPairSync } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import { topicFor } from '../../schemas/wire.ts';
import { TEST_ENROLL_TOKEN, type TestServer } from './testServer.ts';

export interface EnrolledDevice {
  deviceId: string;
  serial: string;
  password: string;
  mqttUrl: string;
}

export const kekPublicKey = () => {
  const { publicKey } = generateKeyPairSync('x25519');
  return publicKey.export({ format: 'der', type: 'spki' }).subarray(-32).toString('base64');
};

let counter = 0;
export const uniqueSerial = (prefix = 'T') => `${prefix}-${process.pid}-${Date.now().toString(36)}-${++counter}`;

export async function registerAndEnroll(t: TestServer, opts: { serial?: string; model?: string } = {}): Promise<EnrolledDevice> {
  const serial = opts.serial ?? uniqueSerial();
  const model = opts.model ?? 'PAX-A920';
  const reg = await t.api('POST', '/v1/devices', { serial, model });
  if (reg.status !== 201) throw new Error(`register failed: ${reg.status} ${JSON.stringify(reg.body)}`);
  const res = await t.api<{ deviceId: string; mqtt: { url: string; username: string; password: string } }>(
    'POST',
    '/v1/enroll',
    { serial, model, fwVersion: '1.0.0', kekPublicKey: kekPublicKey(), enrollToken: TEST_ENROLL_TOKEN },
    { token: null },
  );
  if (res.status !== 201) throw new Error(`enroll failed: ${res.status} ${JSON.stringify(res.body)}`);
  return { deviceId: res.body.deviceId, serial, password: res.body.mqtt.password, mqttUrl: res.body.mqtt.url };
}

/** Connects like an agent: client id = device id, persistent session, last will on state. */
export async function connectDevice(d: EnrolledDevice, opts: { password?: string; clientId?: string } = {}): Promise<MqttClient> {
  const client = mqtt.connect(d.mqttUrl, {
    clientId: opts.clientId ?? d.deviceId,
    username: d.deviceId,
    password: opts.password ?? d.password,
    clean: false,
    protocolVersion: 4,
    reconnectPeriod: 0,
    connectTimeout: 5000,
    will: { topic: topicFor(d.deviceId, 'state'), payload: Buffer.from('{"online":false}'), qos: 1, retain: true },
  });
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', reject);
  });
  return client;
}

/** Resolves with the CONNACK error code of a refused connection. */
export function connectRefusal(url: string, opts: { clientId: string; username: string; password: string }): Promise<number | undefined> {
  return new Promise((resolve, reject) => {
    const client = mqtt.connect(url, { ...opts, reconnectPeriod: 0, protocolVersion: 4, connectTimeout: 5000 });
    client.once('connect', () => {
      client.end(true);
      reject(new Error('connection was accepted'));
    });
    client.once('error', (err: Error & { code?: number }) => {
      client.end(true);
      resolve(err.code);
    });
  });
}

export const publish = (client: MqttClient, topic: string, payload: unknown, qos: 0 | 1 = 1, retain = false) =>
  client.publishAsync(topic, typeof payload === 'string' || Buffer.isBuffer(payload) ? payload : JSON.stringify(payload), { qos, retain });

/** SUBACK return codes for a subscription (128 = refused), without treating a refusal as a throw. */
export function subscribeCodes(client: MqttClient, topics: string[]): Promise<number[]> {
  return new Promise((resolve, reject) => {
    client.subscribe(topics, { qos: 1 }, (err, granted) => {
      // On a refusal mqtt.js hands back the request; the SUBACK itself rides on the error.
      const suback = (err as (Error & { packet?: { granted?: number[] } }) | null)?.packet?.granted;
      if (suback) return resolve(suback);
      if (!err && granted) return resolve(granted.map((g) => g.qos));
      reject(err ?? new Error('no SUBACK'));
    });
  });
}
