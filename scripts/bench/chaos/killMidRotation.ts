// kill -9 of the server a quarter of the way into a key rotation, members in flight (TPK+TAK, after a first load
// that is not interrupted; sends spread over about 15 s), restart on the same data, rotation
// polled to its end. Then, per terminal: its record succeeded with as many attempts as the
// rotation's keys.install commands its terminal received, every keys.install acked, and each
// terminal loaded the rotated keys exactly once.
import { fileURLToPath } from 'node:url';
import { connectFleetTo } from '../campaignRun.ts';
import type { ChaosCase } from '../chaosCase.ts';
import { enrollKeyFleet, rotation, startRotation } from '../keys.ts';
import type { KeysGenRequest, KeysGenStatus } from '../keysGen.ts';
import { installCounts, memberChecks, mergeTerminalSides, tallyCommands } from './killChecks.ts';
import { commandsOf, membersOf, onEachDatabase } from './killRun.ts';
import { campaignOutcome, killMidCampaign } from './killCampaign.ts';

const entry = fileURLToPath(new URL('../keysGen.ts', import.meta.url));
const TYPE = 'keys.install';
const USAGES = ['TPK', 'TAK'];

export const killMidRotation: ChaosCase = {
  name: 'kill-rotation',
  description: 'kill -9 of the server in the middle of a key rotation; restart on the same data',
  run: (opts) =>
    onEachDatabase<KeysGenRequest>({ caseName: 'kill-rotation', generatorEntry: entry, opts }, async ({ fx, startGenerators }) => {
      const n = opts.quick ? Math.min(opts.devices, 300) : opts.devices;
      const specs = await enrollKeyFleet(fx.api, n, fx.settings.enrollToken);
      const ids = specs.map((s) => s.id);
      const gens = startGenerators();
      await connectFleetTo(gens, specs, fx.settings.mqttPort, {});
      opts.log(`  ${n} terminals connected`);
      const status = () => Promise.all(gens.map((g) => g.request<KeysGenStatus>({ t: 'status' }, 30_000)));
      const first = await rotation(fx.api, 'chaos: first load', USAGES, ids, 300_000, opts.log);
      const before = mergeTerminalSides(await status());

      // Spread over ~15 s, so that the kill falls among sends and acks.
      const id = await startRotation(fx.api, 'chaos: kill mid-rotation', USAGES, ids, n * 4);
      const path = `/v1/key-rotations/${id}`;
      const killed = await killMidCampaign(fx, n, path, opts.log);

      const after = mergeTerminalSides(await status());
      const since = (m: Readonly<Record<string, number>>, b: Readonly<Record<string, number>>) =>
        Object.fromEntries(ids.map((d) => [d, (m[d] ?? 0) - (b[d] ?? 0)]));
      const received = since(
        Object.fromEntries(ids.map((d) => [d, after.ledger[d]?.[TYPE] ?? 0])),
        Object.fromEntries(ids.map((d) => [d, before.ledger[d]?.[TYPE] ?? 0])),
      );
      const members = await membersOf(fx.api, path);
      // Over both campaigns: every keys.install the server created reached its terminal and was acked.
      const tally = tallyCommands(TYPE, ids, await commandsOf(fx.api, ids), after.ledger);
      const installs = installCounts(ids, since(after.installsByDevice, before.installsByDevice), 1);
      const checks = [
        ...(first.state === 'succeeded' ? [] : [`first load ended ${first.state}`]),
        ...memberChecks(ids, members, (d) => received[d] ?? 0),
      ];
      return campaignOutcome(killed, members, tally, installs, checks);
    }),
};
