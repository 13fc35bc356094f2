// Redis stopped and started again (empty: it keeps nothing on disk) while commands are created
// through the API for a connected fleet. Every answer must be clear and bounded meanwhile,
// /readyz must say 503 while Redis is away, and every command accepted with a 2xx must end
// succeeded, acked by its terminal: the delivery jobs Redis held at the stop are gone, so the
// server has to queue them again from the database's open commands.
import type { ChaosCase, ChaosCaseResult } from '../chaosCase.ts';
import type { BenchOptions } from '../scenario.ts';
import { round, sleep } from '../util.ts';
import { startReadyProbe } from './answerLoop.ts';
import { Checks } from './checks.ts';
import { startCommandLoop } from './commandLoop.ts';
import { onChaosServer } from './chaosServer.ts';
import { withFleet } from './fleetUp.ts';
import { commandCounts, commandOutcomes, lostCount } from './outcomes.ts';
import { startPrivateRedis } from './privateRedis.ts';

/** An answer slower than this is a hang (the server bounds its own wait on Redis at 2 s). */
const ANSWER_BOUND_MS = 10_000;
/** /readyz checks have 2 s each: a probe asked this close to the restart may already see Redis. */
const READY_CHECK_MS = 2500;

async function run(opts: BenchOptions): Promise<ChaosCaseResult[]> {
  const name = 'redis-restart';
  const devices = Math.min(opts.devices, opts.quick ? 300 : 1000);
  const downMs = 10_000;
  const checks = new Checks();
  const redis = await startPrivateRedis();
  try {
    return await onChaosServer(opts, { redisUrl: redis.url }, (fx) =>
      withFleet(fx, devices, opts.log, async (fleet) => {
        const base = { baseUrl: fx.api.baseUrl, token: fx.settings.adminToken };
        const loop = startCommandLoop(fleet.devices, { ...base, lanes: 4, boundMs: ANSWER_BOUND_MS, pauseMs: 10 });
        const ready = startReadyProbe(fx.api.baseUrl, 250);
        await sleep(3000);
        await redis.stop();
        const downAt = performance.now();
        loop.phase('down');
        ready.phase('down');
        opts.log(`  redis stopped with ${devices} terminals connected; commands go on being created`);
        await sleep(downMs - READY_CHECK_MS);
        ready.phase('restarting');
        await sleep(READY_CHECK_MS);
        loop.phase('after');
        await redis.start();
        const upAt = performance.now();
        ready.phase('after');
        opts.log(`  redis started again (empty) after ${round((upAt - downAt) / 1000)} s`);
        await sleep(5000);
        const [tally, probe] = await Promise.all([loop.stop(), ready.stop()]);
        const outcomes = await commandOutcomes(base.baseUrl, base.token, tally.accepted, opts.quick ? 60_000 : 120_000);
        const doneAt = performance.now();
        const status = await fleet.status();
        const lost = lostCount(outcomes);
        const readyDown = probe.phases.down;
        const downAnswers = tally.phases.down;

        checks.equal(tally.unclearCount, 0, `answers not clear or not within ${ANSWER_BOUND_MS} ms (${tally.unclear.join('; ')})`);
        checks.equal(probe.unclearCount, 0, `/readyz answers not clear (${probe.unclear.join('; ')})`);
        checks.expect((downAnswers?.answers ?? 0) > 0, 'no command request was answered while Redis was down');
        checks.equal(outcomes.succeeded, tally.accepted.length, `accepted commands acked (${JSON.stringify(outcomes.open)} open)`);
        checks.equal(lost, 0, 'accepted commands lost');
        // Acked exactly once: each accepted command reached its terminal once, not again after Redis came back.
        checks.equal(status.cmdsReceived, tally.accepted.length, 'commands the terminals received');
        checks.expect(
          readyDown !== undefined && readyDown.answers > 0 && readyDown.byAnswer['503'] === readyDown.answers,
          `/readyz while Redis was down: ${JSON.stringify(readyDown?.byAnswer)}, expected every one 503`,
        );
        checks.expect(
          probe.phases.after?.byAnswer['200'] !== undefined,
          `/readyz never 200 after the restart: ${JSON.stringify(probe.phases.after?.byAnswer)}`,
        );
        checks.expect(fx.server().child.exitCode === null, 'the server exited');
        checks.equal(status.connected, devices, 'terminals connected at the end');
        opts.log(
          `  ${tally.accepted.length} accepted (${downAnswers?.answers ?? 0} while down, slowest ${downAnswers?.slowestMs ?? 0} ms), ${outcomes.succeeded} succeeded, ${lost} lost; /readyz while down ${JSON.stringify(readyDown?.byAnswer)}`,
        );
        const result = checks.result({
          name,
          ...commandCounts(tally.accepted.length, outcomes),
          recoverySeconds: round((doneAt - upAt) / 1000, 1),
          figures: {
            terminals: devices,
            downSeconds: round((upAt - downAt) / 1000, 1),
            acceptedWhileDown: downAnswers?.byAnswer['201'] ?? 0,
            slowestAnswerWhileDownMs: downAnswers?.slowestMs ?? 0,
            answersWhileDown: JSON.stringify(downAnswers?.byAnswer ?? {}),
            readyzWhileDown: JSON.stringify(readyDown?.byAnswer ?? {}),
            commandsReceivedByTerminals: status.cmdsReceived,
            redeliveries: status.cmdsReceived - tally.accepted.length,
            openAtEnd: JSON.stringify(outcomes.open),
          },
        });
        return result;
      }),
    );
  } finally {
    await redis.stop();
  }
}

export const redisRestart: ChaosCase = {
  name: 'redis-restart',
  description: 'Redis stopped ~10 s and started again empty while commands are created for a connected fleet',
  run,
};
