// Child process of the kill-fleet-command case: simulated terminals that take a while over each
// command (a diagnostic run on real hardware takes seconds), so its acks are still flowing when the
// server is killed. Each acks `received` at once and `succeeded` after a random delay.
import type { MqttClient } from 'mqtt';
import { type BrokerTarget, type CommandLedger, firstErrorsInto, openBenchTerminal } from '../benchTerminal.ts';
import { type GeneratorRequest, serveGenerator } from '../generatorIpc.ts';
import type { RolloutDeviceSpec } from '../rolloutGen.ts';
import { mapBounded } from '../util.ts';

export type FleetCommandGenRequest = GeneratorRequest<BrokerTarget & { devices: RolloutDeviceSpec[]; workMs: number }>;
export interface FleetCommandGenStatus {
  connected: number;
  finished: number;
  errors: string[];
  commandsByDevice: CommandLedger;
}

const status: FleetCommandGenStatus = { connected: 0, finished: 0, errors: [], commandsByDevice: {} };
const clients: MqttClient[] = [];
const note = firstErrorsInto(status.errors);

async function setup(r: Extract<FleetCommandGenRequest, { t: 'setup' }>) {
  const target = { host: r.host, port: r.port, localAddress: r.localAddress };
  await mapBounded(r.devices, 100, async (spec) => {
    const terminal = openBenchTerminal<unknown>(spec, target, {
      firmware: () => ({ fwVersion: '1.0.0', slot: 'A' }),
      note,
      ledger: status.commandsByDevice,
      onCommand(cmd) {
        terminal.ack({ cmdId: cmd.id, state: 'received' });
        setTimeout(() => {
          status.finished++;
          terminal.ack({ cmdId: cmd.id, state: 'succeeded', result: { printer: 'pass', network: 'pass' } });
        }, Math.random() * r.workMs);
      },
    });
    clients.push(terminal.client);
    await terminal.subscribed;
    status.connected++;
  });
}

serveGenerator({ setup, status, clients });
