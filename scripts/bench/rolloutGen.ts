// Child process of the `rollout` scenario: simulated terminals on raw mqtt.js that do what the
// agent does with ota.install (docs/ota.md): verify the manifest signature against the pinned
// publisher key, download the signed link (streamed, hashed on the way, never kept whole),
// check sha256 and size, ack every stage, "reboot" into the new slot, report the new version.
import { createHash } from 'node:crypto';
import { request } from 'node:http';
import type { MqttClient } from 'mqtt';
import { manifestSigner, otaInstallPayload } from '../../schemas/ota.ts';
import { type BrokerTarget, type CommandLedger, firstErrorsInto, openBenchTerminal } from './benchTerminal.ts';
import { type GeneratorRequest, serveGenerator } from './generatorIpc.ts';
import { mapBounded } from './util.ts';

export interface RolloutDeviceSpec {
  id: string;
  password: string;
}
export type RolloutGenRequest = GeneratorRequest<BrokerTarget & { publisherKey: string; devices: RolloutDeviceSpec[] }>;
export interface RolloutGenStatus {
  connected: number;
  installs: number;
  failures: number;
  bytes: number;
  firstDownloadMs: number | null;
  lastDownloadMs: number | null;
  errors: string[];
  /** Installs each terminal carried out (downloaded, flashed, rebooted into): never more than one per version. */
  installsByDevice: Record<string, number>;
  commandsByDevice: CommandLedger;
}

const status: RolloutGenStatus = {
  connected: 0,
  installs: 0,
  failures: 0,
  bytes: 0,
  firstDownloadMs: null,
  lastDownloadMs: null,
  errors: [],
  installsByDevice: {},
  commandsByDevice: {},
};
const clients: MqttClient[] = [];
const note = firstErrorsInto(status.errors);
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Streams the image, hashing it; only the running hash is kept. */
function download(url: string, localAddress: string): Promise<{ size: number; sha256: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { localAddress, timeout: 60_000 }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        return reject(new Error(`HTTP ${res.statusCode}`));
      }
      const hash = createHash('sha256');
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        hash.update(c);
      });
      res.on('end', () => resolve({ size, sha256: hash.digest('hex') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

function device(spec: RolloutDeviceSpec, r: Extract<RolloutGenRequest, { t: 'setup' }>): Promise<void> {
  let version = '1.0.0';
  let slot: 'A' | 'B' = 'A';
  const terminal = openBenchTerminal<unknown>(
    spec,
    { host: r.host, port: r.port, localAddress: r.localAddress },
    {
      firmware: () => ({ fwVersion: version, slot }),
      note,
      ledger: status.commandsByDevice,
      onCommand(cmd) {
        ack({ cmdId: cmd.id, state: 'received' });
        if (cmd.type !== 'ota.install') return ack({ cmdId: cmd.id, state: 'succeeded' });
        install(cmd.id, cmd.payload).catch((err: unknown) => note(`${spec.id}: ${String(err)}`));
      },
    },
  );
  clients.push(terminal.client);
  const { ack } = terminal;

  async function install(id: string, raw: unknown) {
    const parsed = otaInstallPayload.safeParse(raw);
    if (!parsed.success) return ack({ cmdId: id, state: 'rejected', error: { code: 'invalid_payload', message: 'bad payload' } });
    const p = parsed.data;
    if (p.version === version) return ack({ cmdId: id, state: 'succeeded', result: { version, slot, alreadyInstalled: true } });
    if (!manifestSigner(p.manifest, p.signature, [r.publisherKey]) || p.manifest.sha256 !== p.sha256) {
      status.failures++;
      return ack({ cmdId: id, state: 'failed', error: { code: 'bad_signature', message: 'manifest signature' } });
    }
    ack({ cmdId: id, state: 'in_progress', stage: 'downloading', progress: 0 });
    const t0 = Date.now();
    status.firstDownloadMs ??= t0;
    let got: { size: number; sha256: string };
    try {
      got = await download(p.url, r.localAddress);
    } catch (err) {
      status.failures++;
      return ack({ cmdId: id, state: 'failed', error: { code: 'download_failed', message: (err as Error).message } });
    }
    status.lastDownloadMs = Date.now();
    status.bytes += got.size;
    if (got.size !== p.size || got.sha256 !== p.sha256) {
      status.failures++;
      return ack({ cmdId: id, state: 'failed', error: { code: 'hash_mismatch', message: 'sha256' } });
    }
    ack({ cmdId: id, state: 'in_progress', stage: 'installing', progress: 0 });
    ack({ cmdId: id, state: 'in_progress', stage: 'rebooting' });
    await sleep(50);
    slot = slot === 'A' ? 'B' : 'A';
    version = p.version;
    terminal.publishState();
    ack({ cmdId: id, state: 'in_progress', stage: 'selftest' });
    status.installs++;
    status.installsByDevice[spec.id] = (status.installsByDevice[spec.id] ?? 0) + 1;
    ack({ cmdId: id, state: 'succeeded', result: { version, slot } });
  }

  return terminal.subscribed.then(() => void status.connected++);
}

async function setup(r: Extract<RolloutGenRequest, { t: 'setup' }>) {
  await mapBounded(r.devices, 100, (spec) => device(spec, r));
}

serveGenerator({ setup, status, clients });
