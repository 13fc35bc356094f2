// kill -9 of the server a third of the way through a key rotation (TPK+TAK, after a first load
// that is not interrupted; sends spread over about 15 s), restart on the same data, rotation
// polled to its end. Then, per terminal: its record succeeded with as many attempts as the
// rotation's keys.install commands its terminal received, every keys.install acked, and each
// terminal loaded the rotated keys exactly once.
import { fileURLToPath } from 'node:url';
import { connectFleet, pollCampaign } from '../campaignRun.ts';
import type { ChaosCase } from '../chaosCase.ts';
import { enrollKeyFleet, rotation, startRotation } from '../keys.ts';
import type { KeysGenRequest, KeysGenStatus } from '../keysGen.ts';
import { round } from '../util.ts';
import { installCounts, memberChecks, mergeTerminalSides, tallyCommands } from './killChecks.ts';
import {
  commandsOf,
  inFlight,
  killWhen,
  membersOf,
  midCampaign,
  onEachDatabase,
  restartAfterKill,
  stateCounts,
  waitFleetOnline,
} from './killRun.ts';

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
      await connectFleet(gens, specs, (slice, localAddress) => ({
        t: 'setup',
        host: '127.0.0.1',
        port: fx.settings.mqttPort,
        localAddress,
        devices: slice,
      }));
      opts.log(`  ${n} terminals connected`);
      const status = () => Promise.all(gens.map((g) => g.request<KeysGenStatus>({ t: 'status' }, 30_000)));
      const first = await rotation(fx.api, 'chaos: first load', USAGES, ids, 300_000, opts.log);
      const before = mergeTerminalSides(await status());

      // Spread over ~15 s, so that the kill falls among sends and acks.
      const id = await startRotation(fx.api, 'chaos: kill mid-rotation', USAGES, ids, n * 4);
      const path = `/v1/key-rotations/${id}`;
      const { last, killedAt } = await killWhen(
        fx,
        () => stateCounts(fx.api, path),
        midCampaign(n),
        'members in flight a quarter of the way in',
      );
      opts.log(`  killed at ${JSON.stringify(last)}`);
      const readySeconds = await restartAfterKill(fx, killedAt);
      opts.log(`  ready again after ${readySeconds} s`);
      await waitFleetOnline(fx.api, n, 120_000);
      const end = await pollCampaign(fx.api, path, 180_000);
      const recoverySeconds = round((performance.now() - killedAt) / 1000, 2);
      opts.log(`  rotation ${end.state} ${recoverySeconds} s after the kill: ${JSON.stringify(end.counts)}`);

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
      const failures = [
        ...(first.state === 'succeeded' ? [] : [`first load ended ${first.state}`]),
        ...(end.state === 'succeeded' ? [] : [`rotation ended ${end.state}: ${JSON.stringify(end.counts)}`]),
        ...memberChecks(ids, members, (d) => received[d] ?? 0),
        ...tally.failures,
        ...installs.failures,
      ];
      return {
        commandsAccepted: tally.accepted,
        commandsAcked: tally.acked,
        commandsLost: tally.lost,
        duplicateInstalls: installs.duplicates,
        recoverySeconds,
        failures,
        figures: {
          devices: n,
          succeededAtKill: last.succeeded ?? 0,
          inFlightAtKill: inFlight(last),
          readySeconds,
          retriedMembers: members.filter((m) => m.attempt > 1).length,
          commandsByState: JSON.stringify(tally.byState),
        },
      };
    }),
};
