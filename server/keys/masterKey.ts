// Where the software vault's master key comes from: KEY_VAULT_MASTER_KEY (64 hex digits or
// base64 of 32 bytes), else DATA_DIR/master.key (hex, mode 0600, created on first start).
// During a replacement (or an import) the next key waits in DATA_DIR/master.key.next until every
// stored key is under it.
import { chmodSync, closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';

function writeFileAtomic(path: string, data: string): void {
  const tmp = `${path}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

export const MASTER_FILE = 'master.key';
export const NEXT_FILE = 'master.key.next';

export function parseMasterKey(text: string): Buffer {
  const t = text.trim();
  const key = /^[0-9a-fA-F]{64}$/.test(t) ? Buffer.from(t, 'hex') : Buffer.from(t, 'base64');
  if (key.length !== 32) throw new Error('KEY_VAULT_MASTER_KEY must be 32 bytes: 64 hex digits or base64');
  return key;
}

function readKeyFile(path: string): Buffer {
  const mode = statSync(path).mode & 0o777;
  if (mode & 0o077) chmodSync(path, 0o600);
  return parseMasterKey(readFileSync(path, 'utf8'));
}

export interface MasterKeySource {
  key: Buffer;
  /** `env` keys cannot be replaced by the server (whoever set the variable holds it). */
  from: 'env' | 'file';
  /** A replacement's key, if one is under way. */
  next: Buffer | null;
  /** Writes the next key (a fresh random one, or `imported`) unless that one is already waiting.
   *  Called only while the database records no next generation. */
  createNext(imported?: Buffer): Buffer;
  /** The replacement finished: the next key becomes the master key. */
  promoteNext(): void;
}

export function loadMasterKey(opts: { dataDir: string; fromEnv?: string }): MasterKeySource {
  const file = join(opts.dataDir, MASTER_FILE);
  const nextFile = join(opts.dataDir, NEXT_FILE);
  mkdirSync(dirname(file), { recursive: true });
  let key: Buffer;
  let from: 'env' | 'file';
  if (opts.fromEnv) {
    key = parseMasterKey(opts.fromEnv);
    from = 'env';
  } else {
    if (!existsSync(file)) writeFileAtomic(file, `${randomBytes(32).toString('hex')}\n`);
    key = readKeyFile(file);
    from = 'file';
  }
  const source: MasterKeySource = {
    key,
    from,
    next: existsSync(nextFile) ? readKeyFile(nextFile) : null,
    createNext(imported) {
      // A waiting file the database does not know yet (cut short before its generation was
      // recorded) holds nothing: an imported key takes its place.
      if (!source.next || (imported && !source.next.equals(imported))) {
        if (imported && imported.length !== 32) throw new Error('a master key is 32 bytes');
        writeFileAtomic(nextFile, `${(imported ?? randomBytes(32)).toString('hex')}\n`);
        source.next = readKeyFile(nextFile);
      }
      return source.next;
    },
    promoteNext() {
      if (!source.next) return;
      renameSync(nextFile, file);
      source.key = source.next;
      source.next = null;
      rmSync(nextFile, { force: true });
    },
  };
  return source;
}
