// Coalesces calls made close together into one batch (one query for many devices): campaign
// sends and acks arrive at fleet speed, one device at a time.
/** `windowMs`: how long the first call of a batch waits for company (0: until the next turn of the event loop). */
export function createBatcher<I, O>(run: (inputs: I[]) => Promise<O[]>, opts: { max?: number; windowMs?: number } = {}) {
  const max = opts.max ?? 256;
  const windowMs = opts.windowMs ?? 0;
  let queue: Array<{ input: I; resolve: (o: O) => void; reject: (e: unknown) => void }> = [];
  let scheduled = false;

  function flush() {
    scheduled = false;
    const batch = queue;
    queue = [];
    if (!batch.length) return;
    run(batch.map((b) => b.input)).then(
      (out) => batch.forEach((b, i) => b.resolve(out[i]!)),
      (err: unknown) => batch.forEach((b) => b.reject(err)),
    );
  }

  return (input: I): Promise<O> =>
    new Promise<O>((resolve, reject) => {
      queue.push({ input, resolve, reject });
      if (queue.length >= max) flush();
      else if (!scheduled) {
        scheduled = true;
        if (windowMs > 0) setTimeout(flush, windowMs);
        else setImmediate(flush);
      }
    });
}
