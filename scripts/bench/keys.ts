// Scenario `keys` (issue 5): a key rotation of TPK+TAK on the whole fleet (10,000 by default)
// as a campaign with thresholds on, through the real server (child process on its embedded
// defaults), MQTT and Redis, against simulated terminals that really unwrap and check every key.
// The first load (TMK by X25519 + TPK + TAK) is measured too but is not the target.
import { generateKeyPairSync } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { Api } from './api.ts';
import { connectFleetTo, createdAnswer, generatorTotals, onCampaignServer, pollCampaign } from './campaignRun.ts';
import { benchModel, importSerials, serialOf } from './fleet.ts';
import { machineInfo } from './machine.ts';
import type { BenchOptions, Scenario, TableRow } from './scenario.ts';
import { cell } from './table.ts';
import { mapBounded, round, sleep } from './util.ts';
import type { KeyDeviceSpec, KeysGenRequest, KeysGenStatus } from './keysGen.ts';

const entry = fileURLToPath(new URL('./keysGen.ts', import.meta.url));
const TARGET_S = 30;

function kekPair(): { pub: string; priv: string } {
  const { publicKey, privateKey } = generateKeyPairSync('x25519');
  return {
    pub: publicKey.export({ type: 'spki', format: 'der' }).subarray(12).toString('base64'),
    priv: privateKey.export({ type: 'pkcs8', format: 'der' }).subarray(16).toString('base64'),
  };
}

interface RotationRun {
  seconds: number | null;
  state: string;
  counts?: unknown;
}

/** Creates and starts a key rotation of `usages` on `deviceIds`; its id. `rate`: sends per minute. */
export async function startRotation(api: Api, name: string, usages: string[], deviceIds: string[], rate?: number): Promise<string> {
  const created = await api.admin('POST', '/v1/key-rotations', {
    name,
    usages,
    target: { deviceIds },
    phases: [
      { name: 'canary', percent: 5 },
      { name: 'rest', percent: 95 },
    ],
    successThreshold: 95,
    errorThreshold: 2,
    deviceTimeoutS: 600,
    ...(rate ? { rate: { maxPerMinute: rate } } : {}),
  }, createdAnswer);
  await api.admin('POST', `/v1/key-rotations/${created.id}/start`);
  return created.id;
}

export async function rotation(
  api: Api,
  name: string,
  usages: string[],
  deviceIds: string[],
  timeoutMs: number,
  log: (l: string) => void,
): Promise<RotationRun> {
  const started = performance.now();
  const id = await startRotation(api, name, usages, deviceIds);
  const last = await pollCampaign(api, `/v1/key-rotations/${id}`, timeoutMs - (performance.now() - started));
  const seconds = last.state === 'succeeded' ? round((performance.now() - started) / 1000, 2) : null;
  log(`  ${name}: ${last.state} after ${round((performance.now() - started) / 1000, 1)} s`);
  return { seconds, state: last.state, counts: last.counts ?? last.phases };
}

/** Imports and enrolls `devices` terminals, each with an X25519 KEK the keys generator unwraps with. */
export async function enrollKeyFleet(api: Api, devices: number, enrollToken: string): Promise<KeyDeviceSpec[]> {
  await importSerials(api, devices);
  const keks = Array.from({ length: devices }, () => kekPair());
  return mapBounded(
    Array.from({ length: devices }, (_, i) => i),
    64,
    async (i): Promise<KeyDeviceSpec> => {
      const r = await api.enroll({ serial: serialOf(i), model: benchModel, fwVersion: '1.0.0', kekPublicKey: keks[i]!.pub, enrollToken });
      return { id: r.deviceId, password: r.mqtt.password, kek: keks[i]!.priv };
    },
  );
}

export const keys: Scenario = {
  name: 'keys',
  description: 'key rotation (TPK+TAK) as a campaign on the whole fleet, terminals unwrapping and checking every key',
  async run(opts: BenchOptions) {
    const devices = opts.quick ? Math.min(opts.devices, 1000) : opts.devices;
    const result: Record<string, unknown> = { devices, machine: machineInfo(), errors: [] as string[] };
    const errors = result.errors as string[];
    opts.log(`keys: ${devices} terminals`);
    await onCampaignServer<KeysGenRequest>({ name: 'keys', generatorEntry: entry, opts, errors }, async ({ fx, startGenerators }) => {
      const t0 = performance.now();
      const specs = await enrollKeyFleet(fx.api, devices, fx.settings.enrollToken);
      opts.log(`  enrolled ${devices} in ${round((performance.now() - t0) / 1000, 1)} s; connecting…`);
      const gens = startGenerators();
      await connectFleetTo(gens, specs, fx.settings.mqttPort, {});
      opts.log(`  ${devices} terminals connected`);
      await sleep(2000);
      const ids = specs.map((s) => s.id);
      const first = await rotation(fx.api, 'initial load TMK+TPK+TAK', ['TPK', 'TAK'], ids, 600_000, opts.log);
      result.initialLoadSeconds = first.seconds;
      const rot = await rotation(fx.api, 'rotate TPK+TAK', ['TPK', 'TAK'], ids, 600_000, opts.log);
      result.seconds = rot.seconds;
      result.state = rot.state;
      const statuses = await Promise.all(gens.map((g) => g.request<KeysGenStatus>({ t: 'status' }, 10_000)));
      Object.assign(result, generatorTotals(statuses));
      if (rot.state !== 'succeeded') errors.push(`rotation ended ${rot.state}`);
    });
    const seconds = typeof result.seconds === 'number' ? result.seconds : null;
    const rows: TableRow[] = [
      { metric: 'keys: terminals', ours: cell(devices), pass: null },
      { metric: 'keys: first load TMK+TPK+TAK', ours: cell(result.initialLoadSeconds as number | null, ' s', 1), pass: null },
      {
        metric: 'keys: rotation TPK+TAK',
        ours: cell(seconds, ' s', 1),
        target: `≤ ${TARGET_S} s`,
        pass: seconds === null ? false : seconds <= TARGET_S && devices >= 10_000,
      },
    ];
    return { result, rows };
  },
};
