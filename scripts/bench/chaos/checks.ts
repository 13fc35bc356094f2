// A chaos case's exact-count checks, collected into its ChaosCaseResult: each check that does not
// hold is one line of `failures`, and the case is ok only when there is none.
import type { ChaosCaseResult } from '../chaosCase.ts';

export class Checks {
  readonly failures: string[] = [];

  /** Records `line` as a failure unless `holds`. */
  expect(holds: boolean, line: string): void {
    if (!holds) this.failures.push(line);
  }

  equal(actual: number, expected: number, what: string): void {
    this.expect(actual === expected, `${what}: ${actual}, expected ${expected}`);
  }

  result(r: Omit<ChaosCaseResult, 'ok' | 'failures'>): ChaosCaseResult {
    return { ...r, ok: this.failures.length === 0, failures: [...this.failures] };
  }
}

/** The result of a case that could not run here, saying why (a `skipped` figure, not a failure). */
export function skipped(name: string, why: string): ChaosCaseResult {
  return {
    name,
    ok: true,
    commandsAccepted: 0,
    commandsAcked: 0,
    commandsLost: 0,
    duplicateInstalls: 0,
    recoverySeconds: 0,
    failures: [],
    figures: { skipped: why },
  };
}
