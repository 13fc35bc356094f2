// The server a chaos case runs against, torn down whatever happens: its files are kept for a look
// when the case failed or threw (or with --keep), removed otherwise.
import type { ChaosCaseResult } from '../chaosCase.ts';
import { startPosfleet, type FixtureOverrides, type PosfleetFixture } from '../fixture.ts';
import type { BenchOptions } from '../scenario.ts';

export async function onChaosServer(
  opts: BenchOptions,
  overrides: FixtureOverrides,
  body: (fx: PosfleetFixture) => Promise<ChaosCaseResult>,
): Promise<ChaosCaseResult[]> {
  const fx = await startPosfleet(opts.log, overrides);
  let keep = true;
  try {
    const result = await body(fx);
    keep = !result.ok;
    return [result];
  } finally {
    await fx.close(opts.keepFiles || keep, 30_000);
    if (keep) opts.log(`  server logs kept in ${fx.workDir}`);
  }
}
