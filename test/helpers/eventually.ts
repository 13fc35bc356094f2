// The one poller of the tests: asks `check` again until it gives a value, or fails naming what
// it waited for and the last error `check` threw.

export interface EventuallyOptions {
  /** Default 10 s. */
  timeoutMs?: number;
  /** Pause between two checks; default 50 ms (raise it for checks that cost an API round trip). */
  stepMs?: number;
  /** What the test waits for, in the timeout's message. */
  what?: string;
}

/**
 * Resolves with the first truthy value `check` returns (sync or async). A falsy value
 * (undefined, null, false, 0, '') or a throw means "not yet".
 */
export async function eventually<T>(
  check: () => T | undefined | null | false | Promise<T | undefined | null | false>,
  opts: EventuallyOptions = {},
): Promise<T> {
  const { timeoutMs = 10_000, stepMs = 50, what = 'condition' } = opts;
  const until = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= until) break;
    await new Promise((resolve) => setTimeout(resolve, stepMs));
  }
  const cause = lastError === undefined ? '' : `; last error: ${String(lastError)}`;
  throw new Error(`${what} not met within ${timeoutMs} ms${cause}`, { cause: lastError });
}
