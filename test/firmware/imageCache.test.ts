import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { ArtifactStorage } from '../../server/firmware/artifactStorage.ts';
import { createImageCache } from '../../server/firmware/imageCache.ts';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** Storage over a map of sha256 → bytes that counts its reads; `stored` may differ from the key (a damaged file). */
function memoryStorage(files: Map<string, Buffer>) {
  const reads: string[] = [];
  const storage: ArtifactStorage = {
    put: () => Promise.reject(new Error('read-only')),
    has: async (s) => files.has(s),
    read(s) {
      reads.push(s);
      const bytes = files.get(s);
      if (!bytes)
        return new Readable({
          read() {
            this.destroy(new Error('ENOENT'));
          },
        });
      // Several chunks, as a file stream gives.
      return Readable.from([bytes.subarray(0, 1000), bytes.subarray(1000)]);
    },
  };
  return { storage, reads };
}

describe('image cache', () => {
  it('reads an image once for any number of concurrent and later requests, and gives its exact bytes', async () => {
    const img = randomBytes(300_000);
    const { storage, reads } = memoryStorage(new Map([[sha(img), img]]));
    const cache = createImageCache(storage);
    const first = await Promise.all(Array.from({ length: 50 }, () => cache.get({ sha256: sha(img), size: img.length })));
    const later = await cache.get({ sha256: sha(img), size: img.length });
    expect(reads).toHaveLength(1);
    for (const got of [...first, later]) expect(got && Buffer.compare(got, img)).toBe(0);
  });

  it('holds nothing whose stored bytes do not match the sha256 or the size, and nothing it could not read', async () => {
    const img = randomBytes(5000);
    const damaged = Buffer.from(img);
    damaged[10] = damaged[10]! ^ 1;
    const { storage, reads } = memoryStorage(new Map([[sha(img), damaged]]));
    const cache = createImageCache(storage);
    expect(await cache.get({ sha256: sha(img), size: img.length })).toBeNull();
    expect(await cache.get({ sha256: sha(img), size: img.length - 1 })).toBeNull();
    expect(await cache.get({ sha256: sha(img), size: img.length + 1 })).toBeNull();
    expect(await cache.get({ sha256: 'f'.repeat(64), size: 10 })).toBeNull();
    // Each was a read: a refused image is not remembered as good, and is tried again next time.
    expect(reads).toHaveLength(4);
  });

  it('streams images over the size limit and evicts the least recently served past the budget', async () => {
    const [a, b, c, big] = [randomBytes(400), randomBytes(400), randomBytes(400), randomBytes(2000)];
    const { storage, reads } = memoryStorage(new Map([a, b, c, big].map((x) => [sha(x), x])));
    const cache = createImageCache(storage, { maxImageBytes: 1000, maxTotalBytes: 1000 });
    const get = (x: Buffer) => cache.get({ sha256: sha(x), size: x.length });
    expect(await get(big)).toBeNull();
    expect(reads).toHaveLength(0);
    await get(a);
    await get(b);
    await get(a); // a is now the most recent: c evicts b
    await get(c);
    expect(reads).toEqual([sha(a), sha(b), sha(c)]);
    await get(a);
    expect(reads).toHaveLength(3);
    await get(b);
    expect(reads).toEqual([sha(a), sha(b), sha(c), sha(b)]);
  });
});
