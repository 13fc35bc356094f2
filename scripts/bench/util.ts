// Small timing helpers; every wait in the benchmark goes through one of these so none is unbounded.
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export class TimeoutError extends Error {
  constructor(what: string, ms: number) {
    super(`${what}: no result after ${Math.round(ms)} ms`);
    this.name = 'TimeoutError';
  }
}

export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(what, ms)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Calls `probe` every `everyMs` until it yields a value; throws after `timeoutMs`.
 *  Probe errors count as "not yet" (a restarting server refuses connections for a while). */
export async function pollUntil<T>(
  probe: () => Promise<T | undefined>,
  opts: { everyMs: number; timeoutMs: number; what: string; abandon?: () => string | undefined },
): Promise<T> {
  const deadline = performance.now() + opts.timeoutMs;
  let lastError: unknown;
  for (let i = 0; i < 10_000_000; i++) {
    const why = opts.abandon?.();
    if (why) throw new Error(`${opts.what}: ${why}`);
    const started = performance.now();
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      lastError = err;
    }
    if (performance.now() >= deadline) break;
    await sleep(Math.max(0, opts.everyMs - (performance.now() - started)));
  }
  const suffix = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
  throw new Error(`${opts.what}: not reached within ${opts.timeoutMs} ms${suffix}`);
}

/** Runs `worker` over `items` with at most `concurrency` in flight; results keep input order. */
export async function mapBounded<T, R>(items: readonly T[], concurrency: number, worker: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const lanes = Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await worker(items[i]!, i);
    }
  });
  await Promise.all(lanes);
  return out;
}

export const errorText = (err: unknown): string => (err instanceof Error ? err.message : String(err));

export const round = (n: number, digits = 1): number => {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
};
