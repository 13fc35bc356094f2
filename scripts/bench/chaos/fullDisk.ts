// DATA_DIR on a small tmpfs that a ballast file fills to the last byte while the server runs on
// its embedded database there, with terminals ingesting health, commands being created and log
// bundles uploaded. While full: every answer a clear, bounded error (507 for what needs the disk),
// never a 500, and the server keeps running; once the ballast is gone: uploads and writes succeed
// again and every command accepted with a 2xx is acked.
import type { ChaosCase, ChaosCaseResult } from '../chaosCase.ts';
import { onChaosServer } from './chaosServer.ts';
import { enrollFleet, importSerials } from '../fleet.ts';
import type { BenchOptions } from '../scenario.ts';
import { round, sleep } from '../util.ts';
import { startAnswerLoop, type LoopTally } from './answerLoop.ts';
import { tallyKey } from './answers.ts';
import { Checks, skipped } from './checks.ts';
import { startCommandLoop } from './commandLoop.ts';
import { commandCounts, commandOutcomes, lostCount } from './outcomes.ts';
import { mountSmallDisk } from './smallDisk.ts';
import { openUploadingTerminals } from './uploadingTerminals.ts';

const NAME = 'full-disk';
const ANSWER_BOUND_MS = 10_000;
const TERMINALS = 20;

const count = (t: LoopTally | Record<string, number> | undefined, status: string): number => {
  if (!t) return 0;
  const byAnswer: Record<string, number> = 'phases' in t ? Object.assign({}, ...Object.values(t.phases).map((p) => p.byAnswer)) : t;
  return Object.entries(byAnswer).reduce((n, [k, v]) => (k.split(' ')[0] === status ? n + v : n), 0);
};

async function run(opts: BenchOptions): Promise<ChaosCaseResult[]> {
  const disk = await mountSmallDisk(64);
  if ('unavailable' in disk) {
    opts.log(`  ${NAME} skipped: ${disk.unavailable}`);
    return [skipped(NAME, disk.unavailable)];
  }
  const checks = new Checks();
  try {
    return await onChaosServer(opts, { dataDir: `${disk.dir}/data` }, async (fx) => {
      await importSerials(fx.api, TERMINALS);
      const fleet = await enrollFleet(fx.api, TERMINALS, fx.settings.enrollToken, 8);
      const terminals = await openUploadingTerminals(fleet.devices, fx.settings.mqttPort, { bundleBytes: 256 * 1024, healthEveryMs: 500 });
      try {
        const base = { baseUrl: fx.api.baseUrl, token: fx.settings.adminToken };
        const commands = startCommandLoop(fleet.devices, { ...base, lanes: 2, boundMs: ANSWER_BOUND_MS, pauseMs: 50 });
        let nextLog = 0;
        const logRequests = startAnswerLoop({
          ...base,
          lanes: 1,
          boundMs: ANSWER_BOUND_MS,
          pauseMs: 500,
          next: () => ({ method: 'POST', path: `/v1/devices/${fleet.devices[nextLog++ % TERMINALS]!.id}/logs`, body: {} }),
        });
        const phaseOf = new Map<number, string>();
        const setPhase = (p: string) => {
          commands.phase(p);
          logRequests.phase(p);
          phaseOf.set(terminals.uploads.length, p);
        };
        await sleep(4000);
        const healthBefore = terminals.healthAcked();
        const ballast = await disk.fill();
        const fullAt = performance.now();
        setPhase('full');
        opts.log(`  ${NAME}: ballast of ${round(ballast / 2 ** 20)} MiB, ${await disk.freeBytes()} bytes left under DATA_DIR`);
        await sleep(10_000);
        await disk.free();
        const freedAt = performance.now();
        setPhase('after');
        const healthWhileFull = terminals.healthAcked() - healthBefore;
        await sleep(8000);
        const [cmdTally, logTally] = await Promise.all([commands.stop(), logRequests.stop()]);
        // Uploads by the phase their bundle was requested in is not known; by when they were answered it is.
        const uploadsBy: Record<string, Record<string, number>> = {};
        let phase = 'before';
        terminals.uploads.forEach((u, i) => {
          phase = phaseOf.get(i) ?? phase;
          const by = (uploadsBy[phase] ??= {});
          by[tallyKey(u.answer)] = (by[tallyKey(u.answer)] ?? 0) + 1;
        });
        const uploadsUnclear = terminals.uploads.filter((u) => u.answer.unclear).map((u) => u.answer.unclear);
        const outcomes = await commandOutcomes(base.baseUrl, base.token, cmdTally.accepted, 60_000);
        const doneAt = performance.now();
        const lost = lostCount(outcomes);
        const alive = fx.server().child.exitCode === null;

        checks.equal(cmdTally.unclearCount, 0, `command answers not clear (${cmdTally.unclear.join('; ')})`);
        checks.equal(logTally.unclearCount, 0, `log request answers not clear (${logTally.unclear.join('; ')})`);
        checks.equal(uploadsUnclear.length, 0, `upload answers not clear (${uploadsUnclear.slice(0, 3).join('; ')})`);
        checks.equal(
          count(cmdTally, '500') + count(logTally, '500') + count(uploadsBy.full, '500') + count(uploadsBy.after, '500'),
          0,
          'answers 500',
        );
        checks.expect(
          count(uploadsBy.full, '201') === 0 && count(uploadsBy.full, '507') > 0,
          `uploads while full: ${JSON.stringify(uploadsBy.full)}, expected 507`,
        );
        checks.expect(
          count(uploadsBy.after, '201') > 0,
          `no upload stored after the ballast was removed: ${JSON.stringify(uploadsBy.after)}`,
        );
        checks.expect(
          count(cmdTally.phases.after?.byAnswer, '201') > 0,
          `no command accepted after the ballast was removed: ${JSON.stringify(cmdTally.phases.after?.byAnswer)}`,
        );
        checks.equal(outcomes.succeeded, cmdTally.accepted.length, `accepted commands acked (${JSON.stringify(outcomes.open)} open)`);
        checks.equal(lost, 0, 'accepted commands lost');
        checks.expect(alive, 'the server exited');
        opts.log(
          `  ${NAME}: commands ${JSON.stringify(cmdTally.phases)}, uploads ${JSON.stringify(uploadsBy)}, ${outcomes.succeeded}/${cmdTally.accepted.length} acked`,
        );
        const result = checks.result({
          name: NAME,
          ...commandCounts(cmdTally.accepted.length, outcomes),
          // Until the first command stored again: what an operator freeing space waits for.
          recoverySeconds: round(((cmdTally.phases.after?.firstOkAt ?? doneAt) - freedAt) / 1000, 2),
          figures: {
            terminals: TERMINALS,
            fullSeconds: round((freedAt - fullAt) / 1000, 1),
            ballastMiB: round(ballast / 2 ** 20),
            commandsWhileFull: JSON.stringify(cmdTally.phases.full?.byAnswer ?? {}),
            logRequestsWhileFull: JSON.stringify(logTally.phases.full?.byAnswer ?? {}),
            uploadsWhileFull: JSON.stringify(uploadsBy.full ?? {}),
            uploadsAfter: JSON.stringify(uploadsBy.after ?? {}),
            healthAckedWhileFull: healthWhileFull,
          },
        });
        return result;
      } finally {
        await terminals.close();
      }
    });
  } finally {
    await disk.unmount();
  }
}

export const fullDisk: ChaosCase = {
  name: NAME,
  description: 'DATA_DIR (embedded database, log bundles) on a small tmpfs filled by a ballast file for 10 s, then freed',
  run,
};
