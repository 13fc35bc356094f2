// Child process of the `keys` scenario: simulated terminals on raw mqtt.js that do what the
// agent does with keys (SPEC §5): unwrap TMK blocks (PFK1) with their KEK, working keys under the
// TMK (TR-31 when the item says `format: "tr31"`, else PFK1), compute the KCV and ack with it.
// Keys are kept in memory only.
import type { KeyObject } from 'node:crypto';
import type { MqttClient } from 'mqtt';
import { keyCheckValue } from '../../schemas/keyCrypto/cmac.ts';
import { openTmkBlock, openWorkingBlock, parseBlock, x25519PrivateFromRaw } from '../../schemas/keyCrypto/keyBlock.ts';
import { deriveTr31Keys, type Tr31Keys } from '../../schemas/keyCrypto/tr31.ts';
import { openDeliveryTr31, readDeliveryTr31 } from '../../schemas/keyCrypto/tr31Delivery.ts';
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

type KeyItem = { slot: string; usage: string; keyId: string; version: number; format?: string; block: string };
type KeysCommandPayload = { items?: KeyItem[] };

interface HeldTmk {
  key: Buffer;
  /** TR-31's KBEK and KBMK, derived once per TMK as the server does. */
  tr31?: Tr31Keys;
}

/** The clear key of one item, the block's device checked; a TMK lands in `tmks`. */
function openItem(item: KeyItem, deviceId: string, kek: KeyObject, tmks: Map<string, HeldTmk>): Buffer {
  if (item.format === 'tr31') {
    const d = readDeliveryTr31(item.block);
    if (d.deviceId !== deviceId) throw new Error('wrong_device');
    const tmk = tmks.get(d.wrappingKeyId);
    if (!tmk) throw new Error('unknown_wrapping_key');
    tmk.tr31 ??= deriveTr31Keys(tmk.key);
    return openDeliveryTr31(item.block, tmk.tr31).key;
  }
  const p = parseBlock(Buffer.from(item.block, 'base64'));
  if (p.header.dev !== deviceId) throw new Error('wrong_device');
  if (p.header.usage !== 'TMK') return openWorkingBlock(p, tmks.get(p.header.wk)?.key ?? Buffer.alloc(32));
  const key = openTmkBlock(p, kek);
  tmks.set(p.header.kid, { key });
  return key;
}

async function device(spec: KeyDeviceSpec, target: BrokerTarget): Promise<void> {
  const kek = x25519PrivateFromRaw(Buffer.from(spec.kek, 'base64'));
  const tmks = new Map<string, HeldTmk>();
  const terminal = openBenchTerminal<KeysCommandPayload>(spec, target, {
    firmware: () => ({ fwVersion: '1.0.0', slot: 'A' }),
    note,
    ledger: status.commandsByDevice,
    onCommand(cmd) {
      if (cmd.type !== 'keys.install') return terminal.ack({ cmdId: cmd.id, state: 'succeeded' });
      try {
        const installed = (cmd.payload.items ?? []).map((item) => {
          const key = openItem(item, spec.id, kek, tmks);
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
