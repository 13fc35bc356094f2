// A small tmpfs of the case's own, and a ballast file that fills it to the last byte and is
// removed again: a full disk under DATA_DIR without touching any other filesystem. Mounting
// needs root; `mountSmallDisk` says why when it cannot.
import { execFile } from 'node:child_process';
import { mkdtemp, open, rm, statfs } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface SmallDisk {
  readonly dir: string;
  /** Writes the ballast until the filesystem refuses (ENOSPC); resolves with the bytes written. */
  fill(): Promise<number>;
  /** Removes the ballast. */
  free(): Promise<void>;
  freeBytes(): Promise<number>;
  unmount(): Promise<void>;
}

export async function mountSmallDisk(sizeMb: number): Promise<SmallDisk | { unavailable: string }> {
  if (process.getuid?.() !== 0) return { unavailable: 'mounting a tmpfs needs root (uid 0)' };
  const dir = await mkdtemp(join(tmpdir(), 'posfleet-chaos-disk-'));
  try {
    await run('mount', ['-t', 'tmpfs', '-o', `size=${sizeMb}m,mode=0700`, 'tmpfs', dir]);
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    return { unavailable: `mount -t tmpfs failed: ${err instanceof Error ? err.message : String(err)}` };
  }
  const ballast = join(dir, 'ballast');
  return {
    dir,
    async fill() {
      const chunk = Buffer.alloc(1 << 20, 0x62);
      const fh = await open(ballast, 'a');
      let written = 0;
      try {
        for (let i = 0; i < 1_000_000; i++) {
          // The last chunk may only partly fit: the short write is counted, the next one refused.
          const { bytesWritten } = await fh.write(chunk, 0, chunk.length);
          written += bytesWritten;
          if (bytesWritten < chunk.length) break;
        }
      } catch (err) {
        if (!(err instanceof Error && 'code' in err && err.code === 'ENOSPC')) throw err;
      } finally {
        await fh.close();
      }
      return written;
    },
    free: () => rm(ballast, { force: true }),
    async freeBytes() {
      const s = await statfs(dir);
      return s.bavail * s.bsize;
    },
    async unmount() {
      await run('umount', [dir]).catch(() => run('umount', ['-l', dir]));
      await rm(dir, { recursive: true, force: true });
    },
  };
}
