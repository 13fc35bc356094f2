// kill -9 of the server a quarter of the way into a firmware rollout, members in flight (signed
// 256 KiB image, canary/early/rest phases, sends spread over about 15 s so members are
// mid-install at the kill), restart on the same data, rollout polled to its end. Then, per terminal: the rollout's record
// succeeded on 2.0.0 with as many attempts as ota.install commands its terminal received, each
// of those commands acked, and the terminal itself installed exactly once.
import { fileURLToPath } from 'node:url';
import { canaryEarlyRestPhases } from '../../../schemas/campaigns.ts';
import { generatePublisherKey } from '../../sign-firmware.ts';
import { uploadBenchImage } from '../benchImage.ts';
import { connectFleetTo, createdAnswer } from '../campaignRun.ts';
import type { ChaosCase } from '../chaosCase.ts';
import { enrollFleet, importSerials } from '../fleet.ts';
import type { RolloutGenRequest, RolloutGenStatus } from '../rolloutGen.ts';
import { installCounts, memberChecks, mergeTerminalSides, tallyCommands } from './killChecks.ts';
import { commandsOf, membersOf, onEachDatabase } from './killRun.ts';
import { campaignOutcome, killMidCampaign } from './killCampaign.ts';

const entry = fileURLToPath(new URL('../rolloutGen.ts', import.meta.url));
const IMAGE_BYTES = 256 * 1024;
const VERSION = '2.0.0';

const publisher = generatePublisherKey();

export const killMidRollout: ChaosCase = {
  name: 'kill-rollout',
  description: 'kill -9 of the server while rollout members are mid-install; restart on the same data',
  run: (opts) =>
    onEachDatabase<RolloutGenRequest>(
      { caseName: 'kill-rollout', generatorEntry: entry, opts, env: { FIRMWARE_PUBLISHER_KEYS: publisher.publicKeyBase64 } },
      async ({ fx, startGenerators }) => {
        const n = opts.quick ? Math.min(opts.devices, 300) : opts.devices;
        await importSerials(fx.api, n);
        const fleet = await enrollFleet(fx.api, n, fx.settings.enrollToken);
        const specs = fleet.devices.map((d) => ({ id: d.id, password: d.password! }));
        const ids = specs.map((s) => s.id);
        const firmwareId = await uploadBenchImage(fx.api, publisher, IMAGE_BYTES, VERSION);
        const gens = startGenerators();
        await connectFleetTo(gens, specs, fx.settings.mqttPort, { publisherKey: publisher.publicKeyBase64 });
        opts.log(`  ${n} terminals connected`);
        const created = await fx.api.admin(
          'POST',
          '/v1/rollouts',
          {
            name: 'chaos: kill mid-rollout',
            firmwareId,
            target: { deviceIds: ids },
            phases: canaryEarlyRestPhases(),
            successThreshold: 95,
            errorThreshold: 2,
            deviceTimeoutS: 600,
            // Spread over ~15 s, so that the kill falls among sends, downloads and installs.
            rate: { maxPerMinute: n * 4 },
          },
          createdAnswer,
        );
        const path = `/v1/rollouts/${created.id}`;
        await fx.api.admin('POST', `${path}/start`);
        const killed = await killMidCampaign(fx, n, path, opts.log);

        const statuses = await Promise.all(gens.map((g) => g.request<RolloutGenStatus>({ t: 'status' }, 30_000)));
        const { ledger, installsByDevice } = mergeTerminalSides(statuses);
        const members = await membersOf(fx.api, path);
        const tally = tallyCommands('ota.install', ids, await commandsOf(fx.api, ids), ledger);
        const installs = installCounts(ids, installsByDevice, 1);
        const checks = memberChecks(ids, members, (id) => ledger[id]?.['ota.install'] ?? 0, VERSION);
        return campaignOutcome(killed, members, tally, installs, checks);
      },
    ),
};
