// What the campaign scenarios (rollout, keys) share around their own measurement: a server and
// generator processes that are always torn down, the fleet dealt out to the generators, a
// campaign polled to its end, and the generators' counts summed for latest.json.
import { z } from 'zod';
import { campaignStates, type CampaignState } from '../../schemas/tables/campaigns.ts';
import type { FixtureOverrides, PosfleetFixture } from './fixture.ts';
import { startPosfleet } from './fixture.ts';
import type { Api } from './api.ts';
import type { BrokerTarget } from './benchTerminal.ts';
import type { GeneratorClient, GeneratorRequest } from './generatorIpc.ts';
import { startGenerators, stopGenerators } from './generatorProcs.ts';
import { sourceAddress } from './ports.ts';
import type { BenchOptions } from './scenario.ts';
import { errorText, sleep } from './util.ts';

const GENERATORS = 2;

/** States in which a campaign no longer moves by itself (`paused`: a threshold stopped it). */
const settledStates: readonly CampaignState[] = ['succeeded', 'failed', 'cancelled', 'paused'];

export interface CampaignScenarioRun<Req extends { t: string }> {
  fx: PosfleetFixture;
  /** Forks the generator processes; they are stopped with the server whatever happens. */
  startGenerators(): GeneratorClient<Req>[];
}

/** Runs `body` on a fresh server; a failure lands in `errors` with the server's last output,
 *  and then the run's files are kept for a look. */
export async function onCampaignServer<Req extends { t: string }>(
  o: { name: string; generatorEntry: string; opts: BenchOptions; errors: string[]; overrides?: FixtureOverrides },
  body: (run: CampaignScenarioRun<Req>) => Promise<void>,
): Promise<void> {
  const fx = await startPosfleet(o.opts.log, o.overrides);
  let gens: GeneratorClient<Req>[] = [];
  try {
    await body({ fx, startGenerators: () => (gens = startGenerators<Req>(o.generatorEntry, o.name, GENERATORS)) });
  } catch (err) {
    o.errors.push(errorText(err));
    o.opts.log(`  ${o.name}: ${errorText(err)}\n${fx.server().lastOutput()}`);
  } finally {
    await stopGenerators(gens);
    await fx.close(o.opts.keepFiles || o.errors.length > 0, 30_000);
  }
}

/** Gives each generator an equal slice of the fleet, on its own source address, and waits
 *  until every terminal is subscribed. */
export async function connectFleet<Spec, Req extends { t: string }>(
  gens: readonly GeneratorClient<Req>[],
  specs: readonly Spec[],
  setupRequest: (slice: Spec[], localAddress: string) => Extract<Req, { t: 'setup' }>,
): Promise<void> {
  const per = Math.ceil(specs.length / gens.length);
  await Promise.all(gens.map((g, i) => g.request(setupRequest(specs.slice(i * per, (i + 1) * per), sourceAddress(i)), 300_000)));
}

/** connectFleet to one server's broker on 127.0.0.1: each generator's setup is its slice, its own
 *  source address and `extra`, the fields of that generator's own (a publisher key, a work time). */
export function connectFleetTo<Spec, Extra extends object>(
  gens: readonly GeneratorClient<GeneratorRequest<BrokerTarget & { devices: Spec[] } & Extra>>[],
  specs: readonly Spec[],
  port: number,
  extra: Extra,
): Promise<void> {
  return connectFleet(gens, specs, (devices, localAddress) => ({ t: 'setup', host: '127.0.0.1', port, localAddress, devices, ...extra }));
}

/** What the scenarios read of `GET /v1/rollouts/{id}` and `/v1/key-rotations/{id}`. */
export const campaignAnswer = z.looseObject({ state: z.enum(campaignStates), counts: z.unknown(), phases: z.unknown() });
export type CampaignAnswer = z.output<typeof campaignAnswer>;
/** The answer of a create: the scenario needs only the id. */
export const createdAnswer = z.looseObject({ id: z.string() });

/** Polls `GET path` every 250 ms until the campaign settles, `timeoutMs` passes or `giveUp` says
 *  so (a campaign that stopped moving); the last answer. */
export async function pollCampaign(
  api: Api,
  path: string,
  timeoutMs: number,
  onPoll?: (last: CampaignAnswer) => void,
  giveUp?: () => boolean,
): Promise<CampaignAnswer> {
  const started = performance.now();
  for (;;) {
    const last = await api.admin('GET', path, undefined, campaignAnswer);
    if (settledStates.includes(last.state) || performance.now() - started >= timeoutMs || giveUp?.()) return last;
    onPoll?.(last);
    await sleep(250);
  }
}

export interface GeneratorCounts {
  installs: number;
  failures: number;
  errors: string[];
}

/** The generators' counts summed, and their first ten errors if any, as latest.json keeps them. */
export function generatorTotals(statuses: readonly GeneratorCounts[]): {
  terminalInstalls: number;
  terminalFailures: number;
  generatorErrors?: string[];
} {
  const errors = statuses.flatMap((s) => s.errors).slice(0, 10);
  return {
    terminalInstalls: statuses.reduce((s, x) => s + x.installs, 0),
    terminalFailures: statuses.reduce((s, x) => s + x.failures, 0),
    ...(errors.length ? { generatorErrors: errors } : {}),
  };
}
