// A Node stream of bytes (a file, a stored image) as the web ReadableStream a Response body takes.
import type { Readable } from 'node:stream';

/**
 * Pulled one chunk at a time, so the source's back-pressure holds and a large file is never in
 * memory; a cancelled answer (client gone) ends the iteration, which destroys the source and
 * closes its file.
 */
export function byteStream(source: Readable): ReadableStream<Uint8Array> {
  const chunks = bytesOf(source);
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const next = await chunks.next();
      if (next.done) controller.close();
      else controller.enqueue(next.value);
    },
    async cancel() {
      await chunks.return(undefined);
    },
  });
}

async function* bytesOf(source: Readable): AsyncGenerator<Uint8Array, void, undefined> {
  for await (const chunk of source) {
    // Only a stream opened with an encoding gives strings; none of ours is.
    if (!(chunk instanceof Uint8Array)) throw new TypeError('byteStream: the source gave text, not bytes');
    yield chunk;
  }
}
