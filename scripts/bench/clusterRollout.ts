// A firmware rollout over the cluster: the rollout scenario's terminals (rolloutGen.ts: verify,
// download, hash, report the new version) spread over the instances as the load generators were,
// the image uploaded and the rollout created and started on instance 0, polled to its end there.
// Terminals go to the instances running now (all of them once the killed one is replaced).
import { fileURLToPath } from 'node:url';
import { canaryEarlyRestPhases } from '../../schemas/campaigns.ts';
import type { generatePublisherKey } from '../sign-firmware.ts';
import { uploadBenchImage } from './benchImage.ts';
import { createdAnswer, generatorTotals, pollCampaign } from './campaignRun.ts';
import type { BenchCluster } from './clusterFixture.ts';
import type { ClusterPlan } from './clusterPlan.ts';
import type { ClusterRun } from './clusterReport.ts';
import { benchModel } from './fleet.ts';
import type { GeneratorClient } from './generatorIpc.ts';
import { startGenerators, stopGenerators } from './generatorProcs.ts';
import { sourceAddress } from './ports.ts';
import type { RolloutDeviceSpec, RolloutGenRequest, RolloutGenStatus } from './rolloutGen.ts';
import { errorText, round, sleep } from './util.ts';

const entry = fileURLToPath(new URL('./rolloutGen.ts', import.meta.url));

export async function clusterRollout(
  cluster: BenchCluster,
  slices: readonly RolloutDeviceSpec[][],
  publisher: ReturnType<typeof generatePublisherKey>,
  /** First source address index free of the load generators' (their closed sockets linger in TIME_WAIT). */
  firstAddress: number,
  plan: ClusterPlan,
  log: (l: string) => void,
): Promise<NonNullable<ClusterRun['rollout']>> {
  const api = cluster.instances[0]!.api;
  const firmwareId = await uploadBenchImage(api, publisher, plan.imageBytes);

  let gens: GeneratorClient<RolloutGenRequest>[] = [];
  try {
    gens = startGenerators<RolloutGenRequest>(entry, 'cluster rollout', slices.length);
    const ports = cluster.alive().map((i) => i.mqttPort);
    await Promise.all(
      gens.map((g, i) =>
        g.request(
          {
            t: 'setup',
            host: '127.0.0.1',
            port: ports[i % ports.length]!,
            localAddress: sourceAddress(firstAddress + i),
            publisherKey: publisher.publicKeyBase64,
            devices: slices[i]!,
          },
          300_000,
        ),
      ),
    );
    log(`  ${slices.reduce((n, s) => n + s.length, 0)} rollout terminals connected`);
    await sleep(2000);
    const created = await api.admin(
      'POST',
      '/v1/rollouts',
      {
        name: 'bench cluster rollout',
        firmwareId,
        // By model, the whole bench fleet: 50,000 ids would not fit in a 1 MiB request body.
        target: { filter: { model: benchModel } },
        phases: canaryEarlyRestPhases(),
        successThreshold: 95,
        errorThreshold: 2,
        deviceTimeoutS: 600,
      },
      createdAnswer,
    );
    const t0 = performance.now();
    await api.admin('POST', `/v1/rollouts/${created.id}/start`);
    let lastLog = 0;
    let lastCounts = '';
    let movedAt = performance.now();
    const stalled = () => performance.now() - movedAt > plan.rolloutStallMs;
    const last = await pollCampaign(
      api,
      `/v1/rollouts/${created.id}`,
      plan.rolloutTimeoutMs,
      (answer) => {
        const counts = JSON.stringify(answer.counts);
        if (counts !== lastCounts) [lastCounts, movedAt] = [counts, performance.now()];
        if (performance.now() - lastLog <= 5000) return;
        lastLog = performance.now();
        log(`  ${round((performance.now() - t0) / 1000, 1)} s: ${counts}`);
      },
      stalled,
    );
    const seconds = (performance.now() - t0) / 1000;
    log(`  rollout ${last.state} after ${round(seconds, 1)} s: ${JSON.stringify(last.counts)}`);
    // One still running would go on sending after the measurement (and on the instance measured alone after).
    if (last.state === 'running' || last.state === 'paused')
      await api.admin('POST', `/v1/rollouts/${created.id}/cancel`).catch(() => undefined);
    const statuses = await Promise.all(gens.map((g) => g.request<RolloutGenStatus>({ t: 'status' }, 10_000)));
    const bytes = statuses.reduce((s, x) => s + x.bytes, 0);
    return {
      seconds: last.state === 'succeeded' ? round(seconds, 2) : null,
      state: last.state,
      counts: last.counts,
      downloadMBps: round(bytes / 1e6 / seconds, 1),
      ...generatorTotals(statuses),
      ...(last.state === 'succeeded'
        ? {}
        : { error: `rollout ended ${last.state}${stalled() ? ` (counts unmoved for ${plan.rolloutStallMs / 1000} s)` : ''}` }),
    };
  } catch (err) {
    return { seconds: null, error: errorText(err) };
  } finally {
    await stopGenerators(gens);
  }
}
