// Ready images served from memory. A rollout has thousands of terminals fetch the same image at
// once: opening, reading and closing the file for each of them cost a descriptor per download
// next to the terminals' own sockets (the 10,000-terminal rollout ran the server out of
// descriptors, EMFILE, and every refused download was retried 30 s later) and a read loop per
// answer. An image is immutable under its sha256, so it is read once, checked against its hash,
// and answered from one buffer; large images, or more than the budget holds, are still streamed.
import { createHash } from 'node:crypto';
import type { ArtifactStorage } from './artifactStorage.ts';

export interface ImageCacheLimits {
  /** Images larger than this are always streamed from storage. */
  maxImageBytes: number;
  /** Bytes held at most, least recently served image evicted first. */
  maxTotalBytes: number;
}

export const defaultImageCacheLimits: ImageCacheLimits = { maxImageBytes: 16 * 2 ** 20, maxTotalBytes: 64 * 2 ** 20 };

export interface ImageCache {
  /** The whole image, or null when it is to be streamed (too large, or its stored bytes do not match). */
  get(image: { sha256: string; size: number }): Promise<Buffer<ArrayBuffer> | null>;
}

export function createImageCache(storage: ArtifactStorage, limits: ImageCacheLimits = defaultImageCacheLimits): ImageCache {
  // Map order is recency: a hit moves its entry to the end, eviction takes from the front.
  const held = new Map<string, Buffer<ArrayBuffer>>();
  // The first request loads; the thousands arriving meanwhile wait for the same read.
  const loading = new Map<string, Promise<Buffer<ArrayBuffer> | null>>();
  let total = 0;

  async function load(sha256: string, size: number): Promise<Buffer<ArrayBuffer> | null> {
    const chunks: Buffer[] = [];
    let got = 0;
    for await (const chunk of storage.read(sha256)) {
      // Only a stream opened with an encoding gives strings; storage's never is.
      if (!(chunk instanceof Uint8Array)) return null;
      got += chunk.length;
      if (got > size) return null;
      chunks.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    }
    const whole = Buffer.concat(chunks, got);
    // What the agent will check anyway: never keep (and hand out thousands of times) bytes that are not the image.
    if (got !== size || createHash('sha256').update(whole).digest('hex') !== sha256) return null;
    return whole;
  }

  function keep(sha256: string, image: Buffer<ArrayBuffer>) {
    held.set(sha256, image);
    total += image.length;
    for (const [key, old] of held) {
      if (total <= limits.maxTotalBytes) break;
      held.delete(key);
      total -= old.length;
    }
  }

  return {
    async get({ sha256, size }) {
      if (size > limits.maxImageBytes || size > limits.maxTotalBytes) return null;
      const hit = held.get(sha256);
      if (hit) {
        held.delete(sha256);
        held.set(sha256, hit);
        return hit;
      }
      let pending = loading.get(sha256);
      if (!pending) {
        // A read that fails (file gone, disk error) leaves the download to the stream, as before.
        pending = load(sha256, size)
          .catch(() => null)
          .then((image) => {
            if (image) keep(sha256, image);
            return image;
          })
          .finally(() => loading.delete(sha256));
        loading.set(sha256, pending);
      }
      return pending;
    },
  };
}
