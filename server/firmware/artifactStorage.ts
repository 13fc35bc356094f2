// Where firmware images live, by sha256. An interface so S3-compatible storage can replace the
// local folder; the local one writes to a temp file while hashing and renames only on a match.
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ensurePrivateDirAsync, PRIVATE_FILE_MODE } from '../security/privateDir.ts';

export type PutResult = { ok: true } | { ok: false; size: number; sha256: string; reason: 'size' | 'sha256' };

export interface ArtifactStorage {
  /** Streams `body` in, hashing on the way; keeps it only when size and sha256 match. */
  put(body: Readable, expected: { size: number; sha256: string }): Promise<PutResult>;
  has(sha256: string): Promise<boolean>;
  /** Bytes [start, end] inclusive. */
  read(sha256: string, range?: { start: number; end: number }): Readable;
}

/** Stops a stream that runs past `max` bytes (an upload longer than its manifest says). */
function limit(max: number, onOver: () => void) {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      seen += chunk.length;
      if (seen > max) {
        onOver();
        cb(new Error('content longer than the manifest size'));
      } else cb(null, chunk);
    },
  });
}

export function createLocalStorage(dir: string): ArtifactStorage {
  const pathOf = (sha: string) => join(dir, sha.slice(0, 2), sha);
  return {
    async put(body, expected) {
      await ensurePrivateDirAsync(join(dir, 'tmp'));
      const tmp = join(dir, 'tmp', `${randomBytes(8).toString('hex')}.part`);
      const hash = createHash('sha256');
      let size = 0;
      let over = false;
      const counter = new Transform({
        transform(chunk: Buffer, _enc, cb) {
          size += chunk.length;
          hash.update(chunk);
          cb(null, chunk);
        },
      });
      try {
        await pipeline(
          body,
          limit(expected.size, () => (over = true)),
          counter,
          createWriteStream(tmp, { mode: PRIVATE_FILE_MODE }),
        );
      } catch (err) {
        await rm(tmp, { force: true });
        if (over) return { ok: false, size: expected.size + 1, sha256: '', reason: 'size' };
        throw err;
      }
      const sha256 = hash.digest('hex');
      if (size !== expected.size || sha256 !== expected.sha256) {
        await rm(tmp, { force: true });
        return { ok: false, size, sha256, reason: size !== expected.size ? 'size' : 'sha256' };
      }
      await ensurePrivateDirAsync(join(dir, sha256.slice(0, 2)));
      await rename(tmp, pathOf(sha256));
      return { ok: true };
    },
    async has(sha) {
      return stat(pathOf(sha)).then(
        (s) => s.isFile(),
        () => false,
      );
    },
    read(sha, range) {
      return createReadStream(pathOf(sha), range ? { start: range.start, end: range.end } : {});
    },
  };
}
