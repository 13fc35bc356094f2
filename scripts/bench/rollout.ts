// Scenario `rollout` (issue 3): a firmware rollout of a 256 KiB signed image to the whole fleet
// (10,000 by default), 3 phases, thresholds on, no rate limit, through the real server (child
// process on its embedded defaults), MQTT, Redis and HTTP downloads, against simulated
// terminals that verify the signature and the sha256 of what they download.
import type { GeneratorClient } from './generatorIpc.ts';
import { startGenerators, stopGenerators } from './generatorProcs.ts';
import { createHash, randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { generatePublisherKey, signManifest } from '../sign-firmware.ts';
import { startPosfleet } from './fixture.ts';
import { benchModel, enrollFleet, importSerials } from './fleet.ts';
import { machineInfo } from './machine.ts';
import { sourceAddress } from './ports.ts';
import type { RolloutGenRequest, RolloutGenStatus } from './rolloutGen.ts';
import type { BenchOptions, Scenario, TableRow } from './scenario.ts';
import { cell } from './table.ts';
import { errorText, round, sleep } from './util.ts';

const entry = fileURLToPath(new URL('./rolloutGen.ts', import.meta.url));
const TARGET_S = 60;
const GENERATORS = 2;
const IMAGE_BYTES = 256 * 1024;

async function call<T>(base: string, token: string, method: string, path: string, body?: unknown, raw?: Buffer): Promise<T> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(raw ? { 'content-type': 'application/octet-stream' } : body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: raw ? new Uint8Array(raw) : body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(120_000),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: HTTP ${res.status} ${text.slice(0, 300)}`);
  return JSON.parse(text) as T;
}

export const rollout: Scenario = {
  name: 'rollout',
  description: 'firmware rollout (256 KiB signed image, 3 phases, thresholds on, no rate limit) to the whole fleet',
  async run(opts: BenchOptions) {
    const devices = opts.quick ? Math.min(opts.devices, 1000) : opts.devices;
    const result: Record<string, unknown> = { devices, imageBytes: IMAGE_BYTES, machine: machineInfo(), errors: [] as string[] };
    const errors = result.errors as string[];
    opts.log(`rollout: ${devices} terminals, ${IMAGE_BYTES / 1024} KiB image`);
    const publisher = generatePublisherKey();
    // The server child inherits this environment: it trusts the bench's publisher key.
    process.env.FIRMWARE_PUBLISHER_KEYS = publisher.publicKeyBase64;
    const fx = await startPosfleet(opts.log);
    let gens: GeneratorClient<RolloutGenRequest>[] = [];
    try {
      const base = `http://127.0.0.1:${fx.settings.httpPort}`;
      const token = fx.settings.adminToken;
      await importSerials(fx.api, devices);
      const fleet = await enrollFleet(fx.api, devices, fx.settings.enrollToken);
      opts.log(`  enrolled ${devices} in ${fleet.seconds} s; connecting…`);

      const image = randomBytes(IMAGE_BYTES);
      const manifest = {
        name: 'bench-os',
        version: '2.0.0',
        models: [benchModel],
        size: IMAGE_BYTES,
        sha256: createHash('sha256').update(image).digest('hex'),
      };
      const fw = await call<{ id: string }>(base, token, 'POST', '/v1/firmware', {
        manifest,
        signature: signManifest(manifest, publisher.privateKeyPem),
      });
      await call(base, token, 'PUT', `/v1/firmware/${fw.id}/content`, undefined, image);

      gens = startGenerators<RolloutGenRequest>(entry, 'rollout', GENERATORS);
      const per = Math.ceil(devices / GENERATORS);
      const specs = fleet.devices.map((d) => ({ id: d.id, password: d.password! }));
      await Promise.all(
        gens.map((g, i) =>
          g.request(
            {
              t: 'setup',
              host: '127.0.0.1',
              port: fx.settings.mqttPort,
              localAddress: sourceAddress(i),
              publisherKey: publisher.publicKeyBase64,
              devices: specs.slice(i * per, (i + 1) * per),
            },
            300_000,
          ),
        ),
      );
      opts.log(`  ${devices} terminals connected`);
      await sleep(2000);

      const created = await call<{ id: string }>(base, token, 'POST', '/v1/rollouts', {
        name: 'bench rollout',
        firmwareId: fw.id,
        target: { deviceIds: specs.map((s) => s.id) },
        phases: [
          { name: 'canary', percent: 1 },
          { name: 'early', percent: 9 },
          { name: 'rest', percent: 90 },
        ],
        successThreshold: 95,
        errorThreshold: 2,
        deviceTimeoutS: 600,
      });
      const t0 = performance.now();
      await call(base, token, 'POST', `/v1/rollouts/${created.id}/start`);
      let last: Record<string, unknown> = {};
      let lastLog = 0;
      while (performance.now() - t0 < 600_000) {
        last = await call<Record<string, unknown>>(base, token, 'GET', `/v1/rollouts/${created.id}`);
        if (['succeeded', 'failed', 'cancelled', 'paused'].includes(String(last.state))) break;
        if (performance.now() - lastLog > 5000) {
          lastLog = performance.now();
          opts.log(`  ${round((performance.now() - t0) / 1000, 1)} s: ${JSON.stringify(last.counts)}`);
        }
        await sleep(250);
      }
      const seconds = (performance.now() - t0) / 1000;
      opts.log(`  rollout ${String(last.state)} after ${round(seconds, 1)} s: ${JSON.stringify(last.counts)}`);
      result.state = last.state;
      result.counts = last.counts;
      result.seconds = last.state === 'succeeded' ? round(seconds, 2) : null;
      const statuses = await Promise.all(gens.map((g) => g.request<RolloutGenStatus>({ t: 'status' }, 10_000)));
      const bytes = statuses.reduce((s, x) => s + x.bytes, 0);
      result.terminalInstalls = statuses.reduce((s, x) => s + x.installs, 0);
      result.terminalFailures = statuses.reduce((s, x) => s + x.failures, 0);
      result.downloadedBytes = bytes;
      // Aggregate download throughput over the rollout (MB = 10^6 bytes).
      result.downloadMBps = round(bytes / 1e6 / seconds, 1);
      const genErrors = statuses.flatMap((s) => s.errors).slice(0, 10);
      if (genErrors.length) result.generatorErrors = genErrors;
      if (last.state !== 'succeeded') errors.push(`rollout ended ${String(last.state)}`);
    } catch (err) {
      errors.push(errorText(err));
      opts.log(`  rollout: ${errorText(err)}\n${fx.server().lastOutput()}`);
    } finally {
      await stopGenerators(gens);
      await fx.close(opts.keepFiles || errors.length > 0, 30_000);
    }
    const seconds = typeof result.seconds === 'number' ? result.seconds : null;
    const rows: TableRow[] = [
      { metric: 'rollout: terminals', ours: cell(devices), pass: null },
      {
        metric: 'rollout: start → succeeded',
        ours: cell(seconds, ' s', 1),
        target: `≤ ${TARGET_S} s`,
        pass: seconds === null ? false : seconds <= TARGET_S && devices >= 10_000,
      },
      { metric: 'rollout: download throughput', ours: cell(result.downloadMBps as number | null, ' MB/s', 1), pass: null },
    ];
    return { result, rows };
  },
};
