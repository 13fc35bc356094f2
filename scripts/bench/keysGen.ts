// Child process of the `keys` scenario: simulated terminals on raw mqtt.js that do what the
// agent does with keys (SPEC §5): unwrap TMK blocks with their KEK, working keys under the TMK,
// compute the KCV and ack with it. Keys are kept in memory only.
import type { MqttClient } from 'mqtt';
import { keyCheckValue } from '../../schemas/keyCrypto/cmac.ts';
import { openTmkBlock, openWorkingBlock, parseBlock, x25519PrivateFromRaw } from '../../schemas/keyCrypto/keyBlock.ts';
import { type BrokerTarget, type CommandLedger, firstErrorsInto, openBenchTerminal } from './benchTerminal.ts';
import { type GeneratorRequest, serveGenerator } from './generatorIpc.ts';
import { mapBounded } from './util.ts';

export interface KeyDeviceSpec {
  id: string;
  password: string;
  /** base64 raw X25519 private key. */
  kek: string;
}
export type KeysGenRequest = GeneratorRequest<BrokerTarget & { devices: KeyDeviceSpec[] }>;
export interface KeysGenStatus {
  connected: number;
  installs: number;
  failures: number;
  errors: string[];
  /** Key loads each terminal carried out (one per keys.install command id). */
  installsByDevice: Record<string, number>;
  commandsByDevice: CommandLedger;
}

const status: KeysGenStatus = { connected: 0, installs: 0, failures: 0, errors: [], installsByDevice: {}, commandsByDevice: {} };
const clients: MqttClient[] = [];
const note = firstErrorsInto(status.errors);

type KeysCommandPayload = { items?: Array<{ slot: string; usage: string; keyId: string; version: number; block: string }> };

async function device(spec: KeyDeviceSpec, target: BrokerTarget): Promise<void> {
  const kek = x25519PrivateFromRaw(Buffer.from(spec.kek, 'base64'));
  const tmks = new Map<string, Buffer>();
  const terminal = openBenchTerminal<KeysCommandPayload>(spec, target, {
    firmware: () => ({ fwVersion: '1.0.0', slot: 'A' }),
    note,
    ledger: status.commandsByDevice,
    onCommand(cmd) {
      if (cmd.type !== 'keys.install') return terminal.ack({ cmdId: cmd.id, state: 'succeeded' });
      try {
        const installed = (cmd.payload.items ?? []).map((item) => {
          const p = parseBlock(Buffer.from(item.block, 'base64'));
          if (p.header.dev !== spec.id) throw new Error('wrong_device');
          const key = p.header.usage === 'TMK' ? openTmkBlock(p, kek) : openWorkingBlock(p, tmks.get(p.header.wk) ?? Buffer.alloc(32));
          if (p.header.usage === 'TMK') tmks.set(p.header.kid, key);
          return { slot: item.slot, usage: item.usage, keyId: item.keyId, version: item.version, kcv: keyCheckValue(key) };
        });
        status.installs++;
        status.installsByDevice[spec.id] = (status.installsByDevice[spec.id] ?? 0) + 1;
        terminal.ack({ cmdId: cmd.id, state: 'succeeded', result: { installed, inventory: [] } });
      } catch (err) {
        status.failures++;
        terminal.ack({ cmdId: cmd.id, state: 'failed', error: { code: 'unwrap_failed', message: (err as Error).message } });
      }
    },
  });
  clients.push(terminal.client);
  await terminal.subscribed;
  status.connected++;
}

async function setup(r: Extract<KeysGenRequest, { t: 'setup' }>) {
  const target = { host: r.host, port: r.port, localAddress: r.localAddress };
  await mapBounded(r.devices, 100, (spec) => device(spec, target));
}

serveGenerator({ setup, status, clients });
