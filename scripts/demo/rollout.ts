// `npm run demo:rollout`: builds a small sample image, signs it with the demo's publisher key,
// uploads it and rolls it out to the demo fleet (serials DEMO-…), then watches the rollout until
// it is final and prints the result. Exit code 0 only when the rollout succeeded.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import { firmwareManifest } from '../../schemas/ota.ts';
import { signManifest } from '../sign-firmware.ts';
import { DemoApiError, openDemoApi, type DemoApi } from './demoApi.ts';
import { demoPublisherFiles } from './publisher.ts';
import { nextDemoVersion, sampleImage } from './sampleImage.ts';

const DEMO_MODEL = 'PAX-A920';
const WATCH_LIMIT_MS = 15 * 60_000;

const fleetSummary = z.looseObject({ byFirmware: z.record(z.string(), z.number()) });
const firmwareRow = z.looseObject({ id: z.string(), state: z.string() });
const rollout = z.looseObject({
  id: z.string(),
  state: z.string(),
  pausedReason: z.string().nullable().optional(),
  counts: z.record(z.string(), z.number()),
});
type Rollout = z.infer<typeof rollout>;
const rolloutDevices = z.looseObject({
  items: z.array(z.looseObject({ error: z.looseObject({ code: z.string() }).nullable().optional() })),
});
const ERROR_STATES = ['failed', 'rolled_back', 'timed_out'];

const FINAL = new Set(['succeeded', 'failed', 'cancelled']);

async function uploadSampleImage(api: DemoApi, keyFile: string): Promise<{ id: string; version: string }> {
  const { byFirmware } = await api.call('GET', '/v1/fleet/summary', fleetSummary);
  const version = nextDemoVersion(Object.keys(byFirmware));
  const image = sampleImage(version);
  const manifest = firmwareManifest.parse({
    name: 'demo-os',
    version,
    models: [DEMO_MODEL],
    size: image.length,
    sha256: createHash('sha256').update(image).digest('hex'),
  });
  const signature = signManifest(manifest, readFileSync(keyFile, 'utf8'));
  const created = await api.call('POST', '/v1/firmware', firmwareRow, { manifest, signature });
  const uploaded = await api.call('PUT', `/v1/firmware/${created.id}/content`, firmwareRow, new Blob([new Uint8Array(image)]));
  if (uploaded.state !== 'ready') throw new DemoApiError(`firmware ${created.id} is ${uploaded.state} after its upload, not ready`);
  return { id: created.id, version };
}

const countsLine = (r: Rollout) =>
  Object.entries(r.counts)
    .map(([state, n]) => `${state} ${n}`)
    .join(', ') || 'no devices';

async function watch(api: DemoApi, id: string): Promise<Rollout> {
  const deadline = Date.now() + WATCH_LIMIT_MS;
  let last = '';
  for (;;) {
    const r = await api.call('GET', `/v1/rollouts/${id}`, rollout);
    const line = `  ${r.state}${r.pausedReason ? ` (${r.pausedReason})` : ''}: ${countsLine(r)}`;
    if (line !== last) process.stdout.write(`${line}\n`);
    last = line;
    if (FINAL.has(r.state) || r.state === 'paused' || Date.now() > deadline) return r;
    await new Promise((done) => setTimeout(done, 1000));
  }
}

/** Why the devices that did not update did not: `failed: 2 × low_battery, 1 × selftest_failed`. */
async function errorsLine(api: DemoApi, r: Rollout): Promise<string> {
  const parts: string[] = [];
  for (const state of ERROR_STATES.filter((s) => (r.counts[s] ?? 0) > 0)) {
    const { items } = await api.call('GET', `/v1/rollouts/${r.id}/devices?state=${state}&limit=500`, rolloutDevices);
    const byCode = new Map<string, number>();
    for (const d of items) {
      const code = d.error?.code ?? 'no code';
      byCode.set(code, (byCode.get(code) ?? 0) + 1);
    }
    parts.push(`${state}: ${[...byCode].map(([code, n]) => `${n} × ${code}`).join(', ')}`);
  }
  return parts.length ? `  (${parts.join('; ')})\n` : '';
}

async function main() {
  const dataDir = resolve(process.env.DATA_DIR || './data');
  const api = openDemoApi(dataDir);
  const fw = await uploadSampleImage(api, demoPublisherFiles(dataDir).key);
  process.stdout.write(`uploaded demo-os ${fw.version} (${fw.id}), signed with the demo publisher key\n`);
  const created = await api.call('POST', '/v1/rollouts', rollout, {
    name: `demo-os ${fw.version} to the demo fleet`,
    firmwareId: fw.id,
    target: { filter: { q: 'DEMO-', model: DEMO_MODEL } },
    phases: [{ name: 'demo fleet', percent: 100 }],
    // The demo fleet carries injected faults (low battery, flapping links...): most, not all, update.
    successThreshold: 80,
    errorThreshold: 50,
    deviceTimeoutS: 300,
    retries: 1,
  });
  await api.call('POST', `/v1/rollouts/${created.id}/start`, rollout);
  process.stdout.write(`rollout ${created.id} started; watching it (${api.httpUrl}/ui/ shows it too)\n`);
  const final = await watch(api, created.id);
  const verdict = final.state === 'succeeded' ? 'succeeded' : FINAL.has(final.state) ? final.state : `not final (${final.state})`;
  process.stdout.write(`rollout ${final.id} ${verdict}: ${countsLine(final)}\n${await errorsLine(api, final)}`);
  process.exit(final.state === 'succeeded' ? 0 : 1);
}

main().catch((err: unknown) => {
  process.stderr.write(`demo:rollout: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
