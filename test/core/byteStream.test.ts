// byteStream: a Node byte stream as a web ReadableStream, whole, with a cancel that closes the
// source (a client gone mid-download must not leave the file open), refusing text.
import { randomBytes } from 'node:crypto';
import { createReadStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { byteStream } from '../../server/core/byteStream.ts';

const dir = mkdtempSync(join(tmpdir(), 'posfleet-bytestream-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('byteStream', () => {
  it('gives every byte of a file, in order', async () => {
    const bytes = randomBytes(300_000);
    const file = join(dir, 'whole.bin');
    writeFileSync(file, bytes);
    const read = Buffer.from(await new Response(byteStream(createReadStream(file))).arrayBuffer());
    expect(read.equals(bytes)).toBe(true);
  });

  it('closes the file when the reader cancels after the first chunk', async () => {
    const file = join(dir, 'cancelled.bin');
    writeFileSync(file, randomBytes(1_000_000));
    const source = createReadStream(file, { highWaterMark: 16 * 1024 });
    const reader = byteStream(source).getReader();
    const first = await reader.read();
    expect(first.value?.byteLength).toBe(16 * 1024);
    // Not once(): the source also emits an AbortError as it is destroyed early, which once() would throw.
    const closed = new Promise<void>((resolve) => source.on('close', resolve));
    await reader.cancel();
    await closed;
    expect(source.destroyed).toBe(true);
    expect(source.bytesRead).toBeLessThan(1_000_000);
  });

  it('errors on a source that gives text', async () => {
    const reader = byteStream(Readable.from(['not bytes'])).getReader();
    await expect(reader.read()).rejects.toThrow('byteStream: the source gave text, not bytes');
  });
});
