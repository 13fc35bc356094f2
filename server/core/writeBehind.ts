// The write-behind primitive: buffered rows go to the database by one write at a time. A flush
// (a read that needs the database current, shutdown) waits for the write under way and then runs
// its own, so everything buffered before the call is written when it resolves; a timer's tick
// skips while a write is under way, and its rows wait for the next tick.
export interface SerialWrites<A extends unknown[]> {
  flush(...args: A): Promise<void>;
  /** Writes unless a write is under way; false when it skipped. */
  tick(...args: A): Promise<boolean>;
}

export function serialWrites<A extends unknown[]>(write: (...args: A) => Promise<void>): SerialWrites<A> {
  let running: Promise<void> | null = null;
  const start = (args: A) => (running = write(...args).finally(() => (running = null)));
  return {
    async flush(...args) {
      while (running) await running.catch(() => undefined);
      await start(args);
    },
    async tick(...args) {
      if (running) return false;
      await start(args);
      return true;
    },
  };
}
