// kill -9 of the server while the acks of a fleet-wide diag.run flow back (about a third in),
// then a second fleet-wide diag.run just after the restart, while terminals reconnect. Every
// command accepted with a 2xx must end acked by its terminal (or in a final state the server
// explains), each terminal must have received each of its commands once, none twice.
import { fileURLToPath } from 'node:url';
import { connectFleetTo } from '../campaignRun.ts';
import type { ChaosCase } from '../chaosCase.ts';
import { enrollFleet, importSerials } from '../fleet.ts';
import { pollUntil, round } from '../util.ts';
import type { FleetCommandGenRequest, FleetCommandGenStatus } from './fleetCommandGen.ts';
import { installCounts, mergeTerminalSides, tallyCommands } from './killChecks.ts';
import { commandsOf, killWhen, onEachDatabase, restartAfterKill, waitFleetOnline } from './killRun.ts';

const entry = fileURLToPath(new URL('./fleetCommandGen.ts', import.meta.url));
const TYPE = 'diag.run';

export const killMidFleetCommand: ChaosCase = {
  name: 'kill-fleet-command',
  description: 'kill -9 of the server while a fleet-wide diag.run is being acked; restart on the same data',
  run: (opts) =>
    onEachDatabase<FleetCommandGenRequest>(
      { caseName: 'kill-fleet-command', generatorEntry: entry, opts },
      async ({ fx, startGenerators }) => {
        const n = opts.quick ? Math.min(opts.devices, 300) : opts.devices;
        // Long enough that the kill, a third of the way in, falls among acks still to come.
        const workMs = opts.quick ? 6000 : 10_000;
        await importSerials(fx.api, n);
        const fleet = await enrollFleet(fx.api, n, fx.settings.enrollToken);
        const specs = fleet.devices.map((d) => ({ id: d.id, password: d.password! }));
        const ids = specs.map((s) => s.id);
        const gens = startGenerators();
        await connectFleetTo(gens, specs, fx.settings.mqttPort, { workMs });
        opts.log(`  ${n} terminals connected`);
        const send = () => fx.api.sendCommand({ target: { deviceIds: ids }, type: TYPE, payload: {} });
        const before = await send();
        const { last, killedAt } = await killWhen(
          fx,
          () => fx.api.batch(before.batchId),
          (b) => (b.counts.succeeded ?? 0) >= n / 3,
          'a third of the batch acked',
        );
        opts.log(`  killed with ${last.counts.succeeded ?? 0}/${n} acked: ${JSON.stringify(last.counts)}`);
        const readySeconds = await restartAfterKill(fx, killedAt);
        const after = await send();
        opts.log(`  ready again after ${readySeconds} s; second batch of ${after.total} sent`);
        await waitFleetOnline(fx.api, n, 120_000);
        const batches = [before, after];
        const finalStates = ['succeeded', 'failed', 'rejected', 'expired', 'cancelled'];
        const settled = await pollUntil(
          async () => {
            const all = await Promise.all(batches.map((b) => fx.api.batch(b.batchId)));
            const done = all.every((b) => finalStates.reduce((s, k) => s + (b.counts[k] ?? 0), 0) === b.total);
            return done ? all : undefined;
          },
          { everyMs: 250, timeoutMs: 120_000, what: 'both batches final' },
        ).catch(() => null);
        const recoverySeconds = round((performance.now() - killedAt) / 1000, 2);

        const statuses = await Promise.all(gens.map((g) => g.request<FleetCommandGenStatus>({ t: 'status' }, 30_000)));
        const { ledger } = mergeTerminalSides(statuses);
        const tally = tallyCommands(TYPE, ids, await commandsOf(fx.api, ids), ledger);
        const received = Object.fromEntries(ids.map((id) => [id, ledger[id]?.[TYPE] ?? 0]));
        const perTerminal = installCounts(ids, received, batches.length);
        const accepted = before.total + after.total;
        const failures = [...tally.failures, ...perTerminal.failures];
        if (!settled) failures.push(`batches not final within 120 s of the fleet being back`);
        if (tally.accepted !== accepted) failures.push(`${accepted} commands accepted, the server lists ${tally.accepted}`);
        return {
          commandsAccepted: accepted,
          commandsAcked: tally.acked,
          commandsLost: accepted - tally.acked - tally.explained,
          duplicateInstalls: perTerminal.duplicates,
          recoverySeconds,
          failures,
          figures: {
            devices: n,
            ackedAtKill: last.counts.succeeded ?? 0,
            readySeconds,
            commandsExplained: tally.explained,
            byState: JSON.stringify(tally.byState),
          },
        };
      },
    ),
};
