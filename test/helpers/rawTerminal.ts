// A terminal speaking raw MQTT (no agent): it records the commands it is sent and acks each one
// as the test tells it, for tests of what the server sends and how it takes the answers.
import type { MqttClient } from 'mqtt';
import { commandMessage, topicFor, type CommandMessage } from '../../schemas/wire.ts';
import { connectDevice, publish, type EnrolledDevice } from './devices.ts';
import { eventually } from './eventually.ts';

/** Connects `d`, reports it online on 1.0.0, and acks every command `received` then `succeeded` (or as `answer` says). */
export async function rawTerminal(
  d: EnrolledDevice,
  answer: (cmd: CommandMessage) => Record<string, unknown>[] = () => [{ state: 'received' }, { state: 'succeeded' }],
) {
  const client: MqttClient = await connectDevice(d);
  const seen: CommandMessage[] = [];
  let closed = false;
  client.on('close', () => (closed = true));
  client.on('message', (_topic, payload) => {
    const cmd = commandMessage.parse(JSON.parse(payload.toString()));
    seen.push(cmd);
    for (const ack of answer(cmd)) void publish(client, topicFor(d.deviceId, 'ack'), { cmdId: cmd.id, ...ack });
  });
  await client.subscribeAsync(topicFor(d.deviceId, 'cmd'), { qos: 1 });
  await publish(client, topicFor(d.deviceId, 'state'), { online: true, fwVersion: '1.0.0', slot: 'A', ts: Date.now() }, 1, true);
  let seq = 0;
  return {
    client,
    seen,
    isClosed: () => closed,
    health: (extra: Record<string, unknown>) =>
      publish(client, topicFor(d.deviceId, 'health'), { ts: Date.now(), seq: seq++, ...extra }, 1),
    event: (type: string, data: Record<string, unknown>) =>
      publish(client, topicFor(d.deviceId, 'event'), { ts: Date.now(), seq: seq++, type, data }, 1),
    waitFor: (type: string, n = 1) =>
      eventually(async () => (seen.filter((c) => c.type === type).length >= n ? seen.filter((c) => c.type === type) : null)),
  };
}
