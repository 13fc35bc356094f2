import { describe, expect, it } from 'vitest';
import { generatorTotals } from '../../scripts/bench/campaignRun.ts';

describe('generatorTotals', () => {
  it('sums installs and failures over the generators and keeps their first ten errors', () => {
    const errs = (p: string, n: number) => Array.from({ length: n }, (_, i) => `${p}${i}`);
    const totals = generatorTotals([
      { installs: 400, failures: 2, errors: errs('a', 7) },
      { installs: 598, failures: 0, errors: errs('b', 7) },
    ]);
    expect(totals).toEqual({ terminalInstalls: 998, terminalFailures: 2, generatorErrors: [...errs('a', 7), ...errs('b', 3)] });
  });
  it('writes no generatorErrors key when no generator saw one', () => {
    expect(generatorTotals([{ installs: 5, failures: 0, errors: [] }])).toStrictEqual({ terminalInstalls: 5, terminalFailures: 0 });
  });
});
