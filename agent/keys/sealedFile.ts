// One sealing format for every secret the agent keeps on disk (SPEC §5 secure store):
// nonce 12 ‖ AES-256-GCM(key, clear) ‖ tag 16, with an AAD naming what the file is, so one
// sealed file cannot be swapped for another even under the same key.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, openSync, rmSync, statSync, writeSync } from 'node:fs';

export function seal(key: Buffer, aad: Buffer, clear: Buffer): Buffer {
  const nonce = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', key, nonce);
  c.setAAD(aad);
  const ct = Buffer.concat([c.update(clear), c.final()]);
  return Buffer.concat([nonce, ct, c.getAuthTag()]);
}

/** Throws when the blob was altered, sealed under another key, or for another purpose. */
export function unseal(key: Buffer, aad: Buffer, blob: Buffer): Buffer {
  if (blob.length < 28) throw new Error('sealed file is truncated');
  const d = createDecipheriv('aes-256-gcm', key, blob.subarray(0, 12));
  d.setAAD(aad);
  d.setAuthTag(blob.subarray(blob.length - 16));
  return Buffer.concat([d.update(blob.subarray(12, blob.length - 16)), d.final()]);
}

/** Overwrites the file with random bytes before removing it, so the old bytes are not left on disk. */
export function shredFile(path: string): void {
  if (!existsSync(path)) return;
  try {
    const size = Math.max(statSync(path).size, 1);
    const fd = openSync(path, 'r+');
    try {
      writeSync(fd, randomBytes(size), 0, size, 0);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } finally {
    rmSync(path, { force: true });
  }
}
