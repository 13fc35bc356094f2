// One simulated terminal's MQTT session as every bench generator opens it, so a generator
// writes only what its terminals do with a command. Raw mqtt.js on a persistent session (the
// broker queues commands while it reconnects), each bound to a source address of its generator
// so thousands of connections do not run out of ephemeral ports.
import { createConnection } from 'node:net';
import { MqttClient } from 'mqtt';
import { terminalAckStates, topicFor, type AckMessage } from '../../schemas/wire.ts';

export interface BrokerTarget {
  host: string;
  port: number;
  localAddress: string;
}

export interface TerminalLogin {
  id: string;
  password: string;
}

/** The command envelope as the generator reads it; `payload` is typed by each generator. */
export interface BenchCommand<Payload> {
  id: string;
  type: string;
  payload: Payload;
}

export interface BenchTerminal {
  readonly client: MqttClient;
  ack(msg: AckMessage): void;
  /** Publishes the retained state message with what `firmware()` says is running now. */
  publishState(): void;
  /** Resolves once the first session is subscribed to the command topic. */
  readonly subscribed: Promise<void>;
}

export interface BenchTerminalOptions<Payload> {
  firmware(): { fwVersion: string; slot: 'A' | 'B' };
  /** Called once per command id; a delivery of one already seen is answered by the terminal itself. */
  onCommand(cmd: BenchCommand<Payload>): void;
  note(message: string): void;
  /** Distinct commands each terminal was given, by type: what the chaos cases count from the terminals' side. */
  ledger?: CommandLedger;
}

/** Terminal id → command type → distinct command ids received. */
export type CommandLedger = Record<string, Record<string, number>>;

export function openBenchTerminal<Payload>(spec: TerminalLogin, target: BrokerTarget, o: BenchTerminalOptions<Payload>): BenchTerminal {
  const cmdTopic = topicFor(spec.id, 'cmd');
  const seen = new Set<string>();
  const client = new MqttClient(() => createConnection(target), {
    protocolVersion: 4,
    clientId: spec.id,
    username: spec.id,
    password: spec.password,
    clean: false,
    keepalive: 120,
    reconnectPeriod: 2000,
    // As the agent does (agent/link.ts): a refused CONNECT (CONNACK 3 past the broker's
    // admission limits) is tried again later; mqtt.js would otherwise end the client for good.
    reconnectOnConnackError: true,
    connectTimeout: 60_000,
  });
  // As the agent does: a command id is acted on once, and a delivery of one already finished is
  // answered with its final ack again (the server may have lost it, e.g. killed before writing it).
  const finals = new Map<string, AckMessage>();
  const ack = (msg: AckMessage) => {
    if (terminalAckStates.includes(msg.state)) finals.set(msg.cmdId, msg);
    void client.publish(topicFor(spec.id, 'ack'), JSON.stringify(msg), { qos: 1 });
  };
  const publishState = () =>
    void client.publish(topicFor(spec.id, 'state'), JSON.stringify({ online: true, ...o.firmware(), ts: Date.now() }), {
      qos: 1,
      retain: true,
    });
  client.on('message', (topic, payload) => {
    if (topic !== cmdTopic) return;
    let cmd: BenchCommand<Payload>;
    try {
      cmd = JSON.parse(payload.toString());
    } catch {
      return o.note(`${spec.id}: bad command`);
    }
    if (seen.has(cmd.id)) {
      const final = finals.get(cmd.id);
      if (final) ack(final);
      return;
    }
    seen.add(cmd.id);
    if (o.ledger) {
      const mine = (o.ledger[spec.id] ??= {});
      mine[cmd.type] = (mine[cmd.type] ?? 0) + 1;
    }
    o.onCommand(cmd);
  });
  client.on('error', (err) => o.note(`${spec.id}: ${err.message}`));
  // State goes out after the subscription, so the server never sees the terminal online
  // before a command it sends could reach it; a reconnect only announces the state again.
  const subscribed = new Promise<void>((resolve) => {
    let first = true;
    client.on('connect', () => {
      if (!first) return publishState();
      first = false;
      client.subscribe(cmdTopic, { qos: 1 }, () => {
        publishState();
        resolve();
      });
    });
  });
  return { client, ack, publishState, subscribed };
}

/** Keeps the first `max` error lines of a generator, so a storm of them stays readable. */
export const firstErrorsInto =
  (errors: string[], max = 20) =>
  (message: string): void =>
    void (errors.length < max && errors.push(message));
