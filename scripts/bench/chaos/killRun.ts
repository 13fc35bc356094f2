// What the kill -9 cases share: each runs on PGlite (the embedded default, in DATA_DIR) and on a
// scratch PostgreSQL database; the server is killed with SIGKILL to its process group (the tsx
// wrapper and the server with it, as a crash or the OOM killer leaves it) at a moment the case
// chooses, then started again on the same DATA_DIR, DATABASE_URL, ports and queue prefix.
import { z } from 'zod';
import { campaignDeviceStates } from '../../../schemas/campaigns.ts';
import { commandStates } from '../../../schemas/db.ts';
import type { Api } from '../api.ts';
import { campaignAnswer, onCampaignServer, type CampaignScenarioRun } from '../campaignRun.ts';
import { createScratchDatabase, type ScratchDatabase } from '../clusterStores.ts';
import type { PosfleetFixture } from '../fixture.ts';
import { exited } from '../procs.ts';
import type { BenchOptions } from '../scenario.ts';
import { errorText, mapBounded, pollUntil, round } from '../util.ts';
import type { ChaosCaseResult } from '../chaosCase.ts';
import { notCounted, type CampaignMember, type ServerCommand } from './killChecks.ts';

export const chaosDatabases = ['pglite', 'postgres'] as const;
export type ChaosDatabase = (typeof chaosDatabases)[number];

/** A failed transient attempt (a download cut by the kill) is retried after this, not the default 30 s. */
const RETRY_BASE_MS = '1000';

/** Runs `body` on a fresh server over `db`; the scratch database is dropped afterwards. A throw
 *  lands in `errors` (with the server's last output in the log) and the run's files are kept. */
export async function onKillServer<Req extends { t: string }>(
  o: { name: string; db: ChaosDatabase; generatorEntry: string; opts: BenchOptions; errors: string[]; env?: Record<string, string> },
  body: (run: CampaignScenarioRun<Req>) => Promise<void>,
): Promise<void> {
  let scratch: ScratchDatabase | undefined;
  try {
    if (o.db === 'postgres') scratch = await createScratchDatabase();
    const extraEnv: Record<string, string> = { CAMPAIGN_RETRY_BASE_MS: RETRY_BASE_MS, ...o.env };
    if (scratch) extraEnv.DATABASE_URL = scratch.databaseUrl;
    await onCampaignServer<Req>({ ...o, overrides: { extraEnv } }, body);
  } catch (err) {
    o.errors.push(errorText(err));
  } finally {
    await scratch?.drop().catch((err: unknown) => o.opts.log(`  could not drop ${scratch?.databaseName}: ${errorText(err)}`));
  }
}

/** Polls `probe` every 50 ms until `when` holds, then SIGKILLs the server: the last answer, and
 *  the moment of the kill (performance.now()). */
export async function killWhen<T>(
  fx: PosfleetFixture,
  probe: () => Promise<T>,
  when: (last: T) => boolean,
  what: string,
  timeoutMs = 120_000,
): Promise<{ last: T; killedAt: number }> {
  const last = await pollUntil(
    async () => {
      const v = await probe();
      return when(v) ? v : undefined;
    },
    { everyMs: 50, timeoutMs, what },
  );
  const server = fx.server();
  try {
    process.kill(-server.pid, 'SIGKILL');
  } catch {
    // already gone
  }
  const killedAt = performance.now();
  await exited(server.child);
  return { last, killedAt };
}

/** A new server process on the same settings; seconds from `killedAt` until it said ready. */
export async function restartAfterKill(fx: PosfleetFixture, killedAt: number): Promise<number> {
  await fx.restart().ready;
  return round((performance.now() - killedAt) / 1000, 2);
}

export async function waitFleetOnline(api: Api, devices: number, timeoutMs: number): Promise<void> {
  await pollUntil(async () => ((await api.summary()).online === devices ? true : undefined), {
    everyMs: 250,
    timeoutMs,
    what: `all ${devices} terminals online again`,
  });
}

const serverCommand = z.looseObject({ id: z.string(), deviceId: z.string(), type: z.string(), state: z.enum(commandStates) });
const member = z.looseObject({
  deviceId: z.string(),
  state: z.enum(campaignDeviceStates),
  attempt: z.number().int(),
  reportedVersion: z.string().nullable(),
});
const pageOf = <T extends z.ZodType>(item: T) => z.object({ items: z.array(item), nextCursor: z.string().nullable() });

async function allPages<T extends z.ZodType>(api: Api, path: string, item: T): Promise<z.output<T>[]> {
  const out: z.output<T>[] = [];
  let cursor: string | null = null;
  const sep = path.includes('?') ? '&' : '?';
  for (let i = 0; i < 1000; i++) {
    const q: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : '';
    const r = await api.admin('GET', `${path}${sep}limit=500${q}`, undefined, pageOf(item));
    out.push(...r.items);
    cursor = r.nextCursor;
    if (!cursor) break;
  }
  return out;
}

/** Every command the server holds for each terminal (all types), as `GET /v1/devices/{id}/commands` lists them. */
export async function commandsOf(api: Api, deviceIds: readonly string[]): Promise<Map<string, ServerCommand[]>> {
  const lists = await mapBounded(deviceIds, 16, (id) => allPages(api, `/v1/devices/${encodeURIComponent(id)}/commands`, serverCommand));
  return new Map(deviceIds.map((id, i) => [id, lists[i]!]));
}

/** `path`: `/v1/rollouts/{id}` or `/v1/key-rotations/{id}`. */
const countsOf = z.record(z.string(), z.number()).catch({});
/** A campaign's members by state. */
export const stateCounts = async (api: Api, path: string): Promise<Record<string, number>> =>
  countsOf.parse((await api.admin('GET', path, undefined, campaignAnswer)).counts);
/** Members the server has sent to and not yet heard the end from. */
export const inFlight = (c: Readonly<Record<string, number>>): number =>
  (c.sent ?? 0) + (c.downloading ?? 0) + (c.installing ?? 0) + (c.rebooting ?? 0);

/** When to kill a campaign of `n`: a quarter done and some members sent to but not finished; two
 *  thirds done whatever is in flight, so the kill falls mid-campaign even when no poll catches one. */
export const midCampaign =
  (n: number) =>
  (c: Readonly<Record<string, number>>): boolean =>
    ((c.succeeded ?? 0) >= n / 4 && inFlight(c) > 0) || (c.succeeded ?? 0) >= (2 * n) / 3;

/** `path`: `/v1/rollouts/{id}` or `/v1/key-rotations/{id}`. */
export const membersOf = (api: Api, path: string): Promise<CampaignMember[]> => allPages(api, `${path}/devices`, member);

/** What a case's body measured on one database; `failures` are its checks that did not hold. */
export type KillOutcome = Omit<ChaosCaseResult, 'name' | 'ok'>;

/** Runs one kill case on each database in turn, its generators started from `generatorEntry`,
 *  the server given `env` too: one result each, named `<case>/<database>`; whatever throws is a
 *  failure of that run. */
export async function onEachDatabase<Req extends { t: string }>(
  o: { caseName: string; generatorEntry: string; opts: BenchOptions; env?: Record<string, string> },
  body: (run: CampaignScenarioRun<Req>, db: ChaosDatabase) => Promise<KillOutcome>,
): Promise<ChaosCaseResult[]> {
  const { caseName, generatorEntry, opts } = o;
  const results: ChaosCaseResult[] = [];
  for (const db of chaosDatabases) {
    const name = `${caseName}/${db}`;
    opts.log(`${name}`);
    const errors: string[] = [];
    let outcome: KillOutcome = notCounted(name);
    // A failed check counts as an error of the run, so its server logs and data dir are kept.
    await onKillServer<Req>({ name, db, generatorEntry, opts, errors, ...(o.env ? { env: o.env } : {}) }, async (run) => {
      outcome = await body(run, db);
      errors.push(...outcome.failures);
    });
    const failures = errors;
    for (const f of failures) opts.log(`  FAILED ${f}`);
    results.push({ name, ...outcome, ok: failures.length === 0, failures });
  }
  return results;
}
