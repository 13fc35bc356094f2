// Keyed hash of high-entropy secrets (device MQTT secrets, API tokens): HMAC-SHA256 with a
// server-side pepper. SPEC §2: these secrets are 256 random bits, so a slow password hash buys
// nothing (nobody brute-forces 2^256) and would make a reconnect storm of the whole fleet cost
// minutes of CPU. The pepper means a stolen database alone does not let anyone check guesses.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface SecretHasher {
  /** Hex HMAC-SHA256 of the secret under the pepper (64 characters). */
  hash(secret: string): string;
  /** Constant-time comparison of the secret's hash with a stored hash. */
  verify(secret: string, storedHash: string): boolean;
}

const HEX_64 = /^[0-9a-f]{64}$/;

export function createSecretHasher(pepper: Buffer): SecretHasher {
  if (pepper.length < 32) throw new Error('secret pepper must be at least 32 bytes');
  // A private copy: the caller's buffer may be reused or zeroed.
  const key = Buffer.from(pepper);
  const digest = (secret: string) => createHmac('sha256', key).update(secret, 'utf8').digest();
  return {
    hash: (secret) => digest(secret).toString('hex'),
    verify(secret, storedHash) {
      if (!HEX_64.test(storedHash)) return false;
      return timingSafeEqual(digest(secret), Buffer.from(storedHash, 'hex'));
    },
  };
}

/** A fresh secret: 32 random bytes (256 bits), base64url without padding (43 characters). */
export function generateSecret(): string {
  return randomBytes(32).toString('base64url');
}

export interface LoadPepperOptions {
  /** DATA_DIR: where `pepper.key` lives when SECRET_PEPPER is not set. */
  dataDir: string;
  /** SECRET_PEPPER, if set. */
  fromEnv?: string;
}

export const PEPPER_FILE = 'pepper.key';

/**
 * The pepper: the UTF-8 bytes of SECRET_PEPPER if given, else of the text in DATA_DIR/pepper.key,
 * which is created (mode 0600, directory created if missing) with a fresh random secret on the
 * first start and read afterwards. Both forms are text, so the content of pepper.key can be moved
 * into SECRET_PEPPER (e.g. for several server instances) and every stored hash stays valid.
 * Losing the pepper invalidates every device secret and API token: back it up with the database.
 */
export function loadPepper({ dataDir, fromEnv }: LoadPepperOptions): Buffer {
  if (fromEnv !== undefined && fromEnv !== '') {
    if (fromEnv.length < 32) throw new Error('SECRET_PEPPER must be at least 32 characters');
    return Buffer.from(fromEnv, 'utf8');
  }
  const file = join(dataDir, PEPPER_FILE);
  const existing = readPepperFile(file);
  if (existing) return existing;

  mkdirSync(dataDir, { recursive: true });
  // Written to a private temporary file, then linked into place: link fails if another process
  // created the file first, so two servers starting together agree on one pepper and nobody
  // ever reads a half-written file.
  const tmp = join(dataDir, `.${PEPPER_FILE}.${process.pid}.${randomBytes(6).toString('hex')}`);
  writeFileSync(tmp, `${generateSecret()}\n`, { mode: 0o600, flag: 'wx' });
  chmodSync(tmp, 0o600); // in case the umask narrowed nothing but the platform widened it
  try {
    linkSync(tmp, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  } finally {
    unlinkSync(tmp);
  }
  const created = readPepperFile(file);
  if (!created) throw new Error(`could not read ${file}`);
  return created;
}

function readPepperFile(file: string): Buffer | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const value = text.trim();
  if (value.length < 32) throw new Error(`${file} is damaged: expected at least 32 characters of key material`);
  return Buffer.from(value, 'utf8');
}
