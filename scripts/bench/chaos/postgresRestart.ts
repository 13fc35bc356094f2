// PostgreSQL stopped and started again under ingest: a private cluster the server runs on, a
// connected fleet publishing health (every terminal into every 1 s history bucket) and acking
// commands created through the API. Meanwhile answers must be clear and bounded and the server
// must stay up; afterwards every command accepted with a 2xx is succeeded in the database, and
// every history bucket the outage spanned holds one row per terminal (write-behind retried).
import type { ChaosCase, ChaosCaseResult } from '../chaosCase.ts';
import type { BenchOptions } from '../scenario.ts';
import { pollUntil, round, sleep } from '../util.ts';
import { startReadyProbe } from './answerLoop.ts';
import { Checks } from './checks.ts';
import { startCommandLoop } from './commandLoop.ts';
import { onChaosServer } from './chaosServer.ts';
import { withFleet } from './fleetUp.ts';
import { commandCounts, commandOutcomes, lostCount } from './outcomes.ts';
import { startPrivatePostgres, type PrivatePostgres } from './privatePostgres.ts';

const NAME = 'postgres-restart';
const ANSWER_BOUND_MS = 10_000;
/** Health samples per terminal and second: two or more land in every 1 s bucket even when a generator runs late. */
const SAMPLES_PER_S = 3;
/** Buckets this close to the start or end of ingest may be partly filled by design. */
const EDGE_MS = 2000;

interface BucketCount {
  bucket: string;
  rows: string;
}

/** Rows missing from the history buckets fully inside [fromMs, toMs]: each should hold one per terminal. */
async function missingHistory(
  db: PrivatePostgres,
  fromMs: number,
  toMs: number,
  terminals: number,
): Promise<{ buckets: number; rows: number; missing: number }> {
  const rows = await db.query<BucketCount>(
    `select floor(extract(epoch from ts))::bigint as bucket, count(*) as rows from health_history
      where ts >= to_timestamp($1 / 1000.0) and ts < to_timestamp($2 / 1000.0) group by 1`,
    [Math.ceil(fromMs / 1000) * 1000, Math.floor(toMs / 1000) * 1000],
  );
  const expectedBuckets = Math.floor(toMs / 1000) - Math.ceil(fromMs / 1000);
  const found = rows.reduce((n, r) => n + Number(r.rows), 0);
  return { buckets: expectedBuckets, rows: found, missing: expectedBuckets * terminals - found };
}

/** `fast`: PostgreSQL rolls back its sessions and checkpoints; `immediate`: it dies as in a crash and replays its WAL at start. */
async function runWith(opts: BenchOptions, mode: 'fast' | 'immediate'): Promise<ChaosCaseResult[]> {
  const name = `${NAME}/${mode}`;
  const devices = Math.min(opts.devices, opts.quick ? 200 : 1000);
  const ingestMs = opts.quick ? 25_000 : 60_000;
  const downMs = 5000;
  const checks = new Checks();
  const db = await startPrivatePostgres();
  try {
    return await onChaosServer(opts, { extraEnv: { DATABASE_URL: db.url, HEALTH_HISTORY_INTERVAL_S: '1' } }, (fx) =>
      withFleet(fx, devices, opts.log, async (fleet) => {
        const base = { baseUrl: fx.api.baseUrl, token: fx.settings.adminToken };
        const ingestFrom = Date.now();
        const ingest = fleet.pool.all(
          (i) => ({
            t: 'ingest',
            count: Math.round((fleet.pool.shares[i]! * SAMPLES_PER_S * ingestMs) / 1000),
            durationMs: ingestMs,
            drainMs: 30_000,
          }),
          ingestMs + 90_000,
        );
        const loop = startCommandLoop(fleet.devices, { ...base, lanes: 4, boundMs: ANSWER_BOUND_MS, pauseMs: 20 });
        const ready = startReadyProbe(fx.api.baseUrl, 250);
        await sleep(Math.min(8000, ingestMs / 3));
        await db.stop(mode);
        const downAt = performance.now();
        loop.phase('down');
        ready.phase('down');
        opts.log(`  ${name}: PostgreSQL stopped (${mode}) under ingest of ${devices * SAMPLES_PER_S} msg/s`);
        await sleep(downMs);
        ready.phase('restarting');
        loop.phase('after');
        await db.start();
        const upAt = performance.now();
        ready.phase('after');
        opts.log(`  ${name}: PostgreSQL started again after ${round((upAt - downAt) / 1000)} s`);
        const reports = await ingest;
        const ingestTo = Date.now();
        const [tally, probe] = await Promise.all([loop.stop(), ready.stop()]);
        const outcomes = await commandOutcomes(base.baseUrl, base.token, tally.accepted, 60_000);
        const lost = lostCount(outcomes);
        // The API answers from memory first; what matters after a restart is what the database holds.
        const ids = tally.accepted.map((c) => c.id);
        let stored: Record<string, number> = {};
        await pollUntil(
          async () => {
            const rows = await db.query<{ state: string; n: string }>(
              'select state, count(*) as n from commands where id = any($1) group by state',
              [ids],
            );
            stored = Object.fromEntries(rows.map((r) => [r.state, Number(r.n)]));
            return (stored.succeeded ?? 0) === ids.length ? true : undefined;
          },
          { everyMs: 500, timeoutMs: 30_000, what: 'accepted commands succeeded in the database' },
        ).catch(() => undefined);
        let history = { buckets: 0, rows: 0, missing: -1 };
        await pollUntil(
          async () => {
            history = await missingHistory(db, ingestFrom + EDGE_MS, ingestTo - EDGE_MS, devices);
            return history.missing <= 0 ? true : undefined;
          },
          { everyMs: 1000, timeoutMs: 30_000, what: 'history rows written' },
        ).catch(() => undefined);
        const doneAt = performance.now();
        const sent = reports.reduce((n, r) => n + r.sent, 0);
        const pubacked = reports.reduce((n, r) => n + r.acked, 0);
        const status = await fleet.status();
        const downAnswers = tally.phases.down;

        checks.equal(tally.unclearCount, 0, `answers not clear or not within ${ANSWER_BOUND_MS} ms (${tally.unclear.join('; ')})`);
        checks.expect(
          downAnswers !== undefined && downAnswers.answers > 0 && downAnswers.byAnswer['503 unavailable'] === downAnswers.answers,
          `command answers while PostgreSQL was down: ${JSON.stringify(downAnswers?.byAnswer)}, expected every one 503 unavailable`,
        );
        checks.equal(probe.unclearCount, 0, `/readyz answers not clear (${probe.unclear.join('; ')})`);
        checks.expect(
          probe.phases.down !== undefined && probe.phases.down.byAnswer['503'] === probe.phases.down.answers,
          `/readyz while PostgreSQL was down: ${JSON.stringify(probe.phases.down?.byAnswer)}, expected every one 503`,
        );
        checks.equal(outcomes.succeeded, tally.accepted.length, `accepted commands acked (${JSON.stringify(outcomes.open)} open)`);
        checks.equal(lost, 0, 'accepted commands lost');
        checks.equal(stored.succeeded ?? 0, ids.length, `accepted commands succeeded in the database (${JSON.stringify(stored)})`);
        checks.equal(pubacked, sent, 'health samples PUBACKed');
        checks.equal(history.missing, 0, `history rows missing in ${history.buckets} buckets of ${devices}`);
        checks.expect(fx.server().child.exitCode === null, 'the server exited');
        checks.equal(status.connected, devices, 'terminals connected at the end');
        opts.log(
          `  ${name}: ${tally.accepted.length} accepted, answers while down ${JSON.stringify(downAnswers?.byAnswer)}; ${outcomes.succeeded} acked, in the database ${JSON.stringify(stored)}; history ${history.rows} rows, ${history.missing} missing`,
        );
        const result = checks.result({
          name,
          ...commandCounts(tally.accepted.length, outcomes),
          recoverySeconds: round(((tally.phases.after?.firstOkAt ?? doneAt) - upAt) / 1000, 2),
          figures: {
            terminals: devices,
            downSeconds: round((upAt - downAt) / 1000, 1),
            answersWhileDown: JSON.stringify(downAnswers?.byAnswer ?? {}),
            slowestAnswerWhileDownMs: downAnswers?.slowestMs ?? 0,
            readyzWhileDown: JSON.stringify(probe.phases.down?.byAnswer ?? {}),
            healthSent: sent,
            healthPubacked: pubacked,
            historyBuckets: history.buckets,
            historyRows: history.rows,
            historyRowsMissing: history.missing,
          },
        });
        return result;
      }),
    );
  } finally {
    await db.destroy();
  }
}

/** A quick run stops PostgreSQL the way a restart does; a full run also crashes it. */
async function run(opts: BenchOptions): Promise<ChaosCaseResult[]> {
  const modes = opts.quick && !process.env.BENCH_CHAOS_PG_CRASH ? (['fast'] as const) : (['fast', 'immediate'] as const);
  const results: ChaosCaseResult[] = [];
  for (const mode of modes) results.push(...(await runWith(opts, mode)));
  return results;
}

export const postgresRestart: ChaosCase = {
  name: NAME,
  description:
    'a private PostgreSQL stopped for ~5 s (fast; and immediate, a crash, in a full run) and started again under health ingest and command creation',
  run,
};
