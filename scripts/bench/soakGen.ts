// Child process of the `soak` scenario: simulated terminals on raw mqtt.js that report health at
// the agent's normal interval, answer every command, and, for the faulty share, show sensor
// faults that come and go, drop their link now and then, or publish garbage (soakFaults.ts).
import type { MqttClient } from 'mqtt';
import { selfTestComponents } from '../../schemas/commands.ts';
import { topicFor } from '../../schemas/wire.ts';
import { makeGarbage } from '../simulate/garbage.ts';
import { type BrokerTarget, firstErrorsInto, openBenchTerminal } from './benchTerminal.ts';
import { type GeneratorRequest, serveGenerator } from './generatorIpc.ts';
import { diagResultOf, healthSampleOf, sensorFaultOf, type SoakFaultMode } from './soakFaults.ts';
import { mapBounded } from './util.ts';

export interface SoakDeviceSpec {
  id: string;
  password: string;
  index: number;
  fault: SoakFaultMode;
}
export interface SoakTiming {
  healthIntervalMs: number;
  /** A flapping terminal drops its link after a random delay in this range, again and again. */
  flapMs: [number, number];
  garbageMs: [number, number];
}
export type SoakGenRequest = GeneratorRequest<BrokerTarget & SoakTiming & { devices: SoakDeviceSpec[] }>;
export interface SoakGenStatus {
  devices: number;
  /** Sessions up right now. */
  connected: number;
  healthSent: number;
  commandsAnswered: Record<string, number>;
  flaps: number;
  garbageSent: number;
  errors: string[];
}

const clients: MqttClient[] = [];
const status: SoakGenStatus = {
  devices: 0,
  get connected() {
    return clients.filter((c) => c.connected).length;
  },
  healthSent: 0,
  commandsAnswered: {},
  flaps: 0,
  garbageSent: 0,
  errors: [],
};
const note = firstErrorsInto(status.errors);
const timers = new Set<NodeJS.Timeout>();

const between = ([lo, hi]: [number, number]) => lo + Math.random() * (hi - lo);

/** Calls `fn` after a delay from `delay()`, again and again, until the process closes. */
function repeat(delay: () => number, fn: () => void): void {
  const t = setTimeout(() => {
    timers.delete(t);
    fn();
    repeat(delay, fn);
  }, delay());
  timers.add(t);
}

async function device(spec: SoakDeviceSpec, target: BrokerTarget, timing: SoakTiming): Promise<void> {
  const sensor = spec.fault === 'sensor' ? sensorFaultOf(spec.index) : null;
  const bootAt = Date.now();
  // A random place in the fault's show-and-clear cycle, so the fleet's faults do not all open
  // and resolve in the same minute.
  let seq = Math.floor(Math.random() * 4);
  const terminal = openBenchTerminal<{ components?: string[] }>(spec, target, {
    firmware: () => ({ fwVersion: '1.0.0', slot: 'A' }),
    note,
    onCommand(cmd) {
      status.commandsAnswered[cmd.type] = (status.commandsAnswered[cmd.type] ?? 0) + 1;
      const result = cmd.type === 'diag.run' ? diagResultOf(cmd.payload.components ?? selfTestComponents, sensor, seq) : undefined;
      terminal.ack({ cmdId: cmd.id, state: 'succeeded', ...(result ? { result } : {}) });
    },
  });
  clients.push(terminal.client);
  await terminal.subscribed;
  const health = topicFor(spec.id, 'health');
  // A random first report, then the interval: the fleet's reports spread evenly over it.
  const first = setTimeout(() => {
    timers.delete(first);
    const report = () => {
      if (!terminal.client.connected) return;
      const sample = healthSampleOf(seq++, Math.floor((Date.now() - bootAt) / 1000), sensor);
      terminal.client.publish(health, JSON.stringify(sample), { qos: 1 });
      status.healthSent++;
    };
    report();
    repeat(() => timing.healthIntervalMs, report);
  }, Math.random() * timing.healthIntervalMs);
  timers.add(first);
  if (spec.fault === 'flap') {
    // The socket dies under the session (no DISCONNECT): the broker sees a lost link, the
    // client reconnects on its persistent session after its reconnect period.
    repeat(
      () => between(timing.flapMs),
      () => {
        if (!terminal.client.connected) return;
        status.flaps++;
        terminal.client.stream.destroy();
      },
    );
  }
  if (spec.fault === 'garbage') {
    repeat(
      () => between(timing.garbageMs),
      () => {
        if (!terminal.client.connected) return;
        const g = makeGarbage(Math.random, Date.now());
        terminal.client.publish(topicFor(spec.id, g.topic), g.payload, { qos: 1 });
        status.garbageSent++;
      },
    );
  }
}

async function setup(r: Extract<SoakGenRequest, { t: 'setup' }>) {
  const target = { host: r.host, port: r.port, localAddress: r.localAddress };
  status.devices = r.devices.length;
  await mapBounded(r.devices, 100, (spec) => device(spec, target, r));
}

serveGenerator({ setup, status, clients });
