import { createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createSecretHasher, generateSecret, loadPepper, PEPPER_FILE } from '../../server/security/secretHasher.ts';

describe('secret hasher', () => {
  const pepper = randomBytes(32);
  const hasher = createSecretHasher(pepper);

  it('is HMAC-SHA256 of the secret under the pepper, in hex', () => {
    const expected = createHmac('sha256', pepper).update('pf_secret', 'utf8').digest('hex');
    expect(hasher.hash('pf_secret')).toBe(expected);
    expect(hasher.hash('pf_secret')).toMatch(/^[0-9a-f]{64}$/);
  });

  it('depends on the pepper', () => {
    const other = createSecretHasher(randomBytes(32));
    expect(other.hash('same')).not.toBe(hasher.hash('same'));
  });

  it('verifies the right secret only', () => {
    const stored = hasher.hash('right');
    expect(hasher.verify('right', stored)).toBe(true);
    expect(hasher.verify('wrong', stored)).toBe(false);
    expect(hasher.verify('right', stored.toUpperCase())).toBe(false);
    expect(hasher.verify('right', stored.slice(2))).toBe(false);
    expect(hasher.verify('right', '')).toBe(false);
    expect(hasher.verify('right', 'zz'.repeat(32))).toBe(false);
  });

  it('refuses a short pepper', () => {
    expect(() => createSecretHasher(randomBytes(16))).toThrow(/32 bytes/);
  });

  it('is not affected by later changes to the pepper buffer', () => {
    const buf = randomBytes(32);
    const h = createSecretHasher(buf);
    const before = h.hash('x');
    buf.fill(0);
    expect(h.hash('x')).toBe(before);
  });
});

describe('generateSecret', () => {
  it('gives 256 random bits in base64url', () => {
    const s = generateSecret();
    expect(s).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(s, 'base64url')).toHaveLength(32);
    expect(new Set(Array.from({ length: 100 }, generateSecret)).size).toBe(100);
  });
});

describe('loadPepper', () => {
  const dirs: string[] = [];
  const scratch = () => {
    const d = mkdtempSync(join(tmpdir(), 'pf-pepper-'));
    dirs.push(d);
    return d;
  };
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('uses SECRET_PEPPER when given, without touching the data dir', () => {
    const dir = join(scratch(), 'data');
    const env = 'p'.repeat(40);
    expect(loadPepper({ dataDir: dir, fromEnv: env }).toString('utf8')).toBe(env);
    expect(() => statSync(dir)).toThrow();
  });

  it('refuses a short SECRET_PEPPER', () => {
    expect(() => loadPepper({ dataDir: scratch(), fromEnv: 'short' })).toThrow(/at least 32/);
  });

  it('creates DATA_DIR/pepper.key (mode 0600, dir created) once and reads it afterwards', () => {
    const dir = join(scratch(), 'nested', 'data');
    const first = loadPepper({ dataDir: dir });
    const file = join(dir, PEPPER_FILE);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(first.length).toBeGreaterThanOrEqual(32);
    const second = loadPepper({ dataDir: dir });
    expect(second.equals(first)).toBe(true);
    // Its content works as SECRET_PEPPER: moving it to the environment keeps every hash.
    const text = readFileSync(file, 'utf8').trim();
    expect(loadPepper({ dataDir: dir, fromEnv: text }).equals(first)).toBe(true);
  });

  it('an empty SECRET_PEPPER counts as unset', () => {
    const dir = scratch();
    expect(loadPepper({ dataDir: dir, fromEnv: '' }).equals(loadPepper({ dataDir: dir }))).toBe(true);
  });

  it('refuses a damaged pepper file instead of replacing it', () => {
    const dir = scratch();
    writeFileSync(join(dir, PEPPER_FILE), 'short\n');
    expect(() => loadPepper({ dataDir: dir })).toThrow(/damaged/);
    expect(readFileSync(join(dir, PEPPER_FILE), 'utf8')).toBe('short\n');
  });
});
