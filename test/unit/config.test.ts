import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, parseDotenv, queuePrefix } from '../../server/config.ts';

const dir = mkdtempSync(join(tmpdir(), 'posfleet-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const NO_FILE = join(dir, 'does-not-exist.env');
let n = 0;
const dotenv = (text: string) => {
  const p = join(dir, `${n++}.env`);
  writeFileSync(p, text);
  return p;
};

/** The problems of the ConfigError that `fn` throws (fails the test if it throws nothing else). */
function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    const err = e as ConfigError;
    expect(err.name).toBe('ConfigError');
    for (const p of err.problems) expect(err.message).toContain(p);
    return err.problems;
  }
  throw new Error('expected a ConfigError');
}

const adminToken = 'a'.repeat(24);

describe('loadConfig', () => {
  it('uses the documented defaults when nothing is set', () => {
    const cfg = loadConfig({}, NO_FILE);
    expect(cfg).toMatchObject({
      HTTP_PORT: 8080,
      MQTT_PORT: 1883,
      MQTTS_PORT: 8883,
      HOST: '127.0.0.1',
      DATA_DIR: './data',
      TLS_ONLY: false,
      LOG_LEVEL: 'info',
      HEARTBEAT_TIMEOUT_S: 120,
      HEALTH_HISTORY_INTERVAL_S: 300,
      FLUSH_INTERVAL_MS: 1000,
      DEVICE_MAX_MSGS_PER_S: 20,
      DEVICE_BURST: 100,
      DEVICE_FLOOD_DISCONNECT_AFTER: 200,
      COMMAND_DEFAULT_TTL_S: 7 * 24 * 3600,
      HTTP_BODY_LIMIT_BYTES: 1024 * 1024,
    });
    for (const k of ['MQTT_WS_PORT', 'PUBLIC_HTTP_URL', 'DATABASE_URL', 'REDIS_URL', 'ENROLL_TOKEN', 'ADMIN_TOKEN', 'TLS_CERT', 'TLS_KEY'] as const) {
      expect(cfg[k], k).toBeUndefined();
    }
  });

  it('coerces numbers and booleans from strings', () => {
    const cfg = loadConfig({ HTTP_PORT: '9000', MQTT_WS_PORT: '0', HEARTBEAT_TIMEOUT_S: '2.5', TLS_ONLY: 'no', LOG_LEVEL: 'debug' }, NO_FILE);
    expect(cfg).toMatchObject({ HTTP_PORT: 9000, MQTT_WS_PORT: 0, HEARTBEAT_TIMEOUT_S: 2.5, TLS_ONLY: false, LOG_LEVEL: 'debug' });
    for (const v of ['true', '1', 'yes']) {
      expect(loadConfig({ TLS_ONLY: v, TLS_CERT: 'c.pem', TLS_KEY: 'k.pem' }, NO_FILE).TLS_ONLY).toBe(true);
    }
  });

  it('treats an empty environment value as unset', () => {
    expect(loadConfig({ HTTP_PORT: '', ADMIN_TOKEN: '' }, NO_FILE)).toMatchObject({ HTTP_PORT: 8080 });
    expect(loadConfig({ ADMIN_TOKEN: '' }, NO_FILE).ADMIN_TOKEN).toBeUndefined();
  });

  it('accepts well-formed URLs and tokens', () => {
    const cfg = loadConfig(
      {
        PUBLIC_HTTP_URL: 'https://tms.example.com:8443',
        PUBLIC_MQTT_URL: 'mqtts://tms.example.com:8883',
        DATABASE_URL: 'postgresql://u:p@db/posfleet',
        REDIS_URL: 'rediss://cache:6380',
        ENROLL_TOKEN: 'e'.repeat(16),
        ADMIN_TOKEN: adminToken,
        SECRET_PEPPER: 'p'.repeat(32),
        KEY_VAULT_MASTER_KEY: 'ab'.repeat(32),
      },
      NO_FILE,
    );
    expect(cfg.KEY_VAULT_MASTER_KEY).toBe('ab'.repeat(32));
    expect(loadConfig({ KEY_VAULT_MASTER_KEY: Buffer.alloc(32, 7).toString('base64') }, NO_FILE).KEY_VAULT_MASTER_KEY).toBeDefined();
    expect(cfg.PUBLIC_MQTT_URL).toBe('mqtts://tms.example.com:8883');
    expect(cfg.ADMIN_TOKEN).toBe(adminToken);
    for (const u of ['mqtt://h', 'ws://h/mqtt', 'wss://h/mqtt']) expect(loadConfig({ PUBLIC_MQTT_URL: u }, NO_FILE).PUBLIC_MQTT_URL).toBe(u);
  });

  it('lists every bad value in one ConfigError, each naming its key', () => {
    const problems = problemsOf(() =>
      loadConfig(
        {
          HTTP_PORT: 'eighty',
          MQTT_PORT: '70000',
          MQTTS_PORT: '-1',
          PUBLIC_HTTP_URL: 'not a url',
          PUBLIC_MQTT_URL: 'http://broker',
          DATABASE_URL: 'mysql://x',
          REDIS_URL: 'localhost:6379',
          ENROLL_TOKEN: 'short',
          ADMIN_TOKEN: 'a'.repeat(23),
          SECRET_PEPPER: 'p'.repeat(31),
          TLS_ONLY: 'maybe',
          LOG_LEVEL: 'loud',
          HEARTBEAT_TIMEOUT_S: '0',
        },
        NO_FILE,
      ),
    );
    const keys = problems.map((p) => p.split(':')[0]).sort();
    expect(keys).toEqual(
      [
        'HTTP_PORT',
        'MQTT_PORT',
        'MQTTS_PORT',
        'PUBLIC_HTTP_URL',
        'PUBLIC_MQTT_URL',
        'DATABASE_URL',
        'REDIS_URL',
        'ENROLL_TOKEN',
        'ADMIN_TOKEN',
        'SECRET_PEPPER',
        'TLS_ONLY',
        'LOG_LEVEL',
        'HEARTBEAT_TIMEOUT_S',
      ].sort(),
    );
    expect(problems).toContain('ENROLL_TOKEN: must be at least 16 characters');
    expect(problems).toContain('ADMIN_TOKEN: must be at least 24 characters');
    expect(problems).toContain('SECRET_PEPPER: must be at least 32 characters');
    expect(problems).toContain('DATABASE_URL: "mysql://x" must be a postgres:// URL');
  });

  it('refuses ports that are not integers in 0..65535', () => {
    for (const p of ['65536', '-1', '80.5', 'abc']) {
      const problems = problemsOf(() => loadConfig({ HTTP_PORT: p }, NO_FILE));
      expect(problems, p).toHaveLength(1);
      expect(problems[0]).toMatch(/^HTTP_PORT: /);
    }
    expect(loadConfig({ HTTP_PORT: '65535' }, NO_FILE).HTTP_PORT).toBe(65535);
  });

  it('repeats the bad value after the key, so the operator sees what was read', () => {
    expect(problemsOf(() => loadConfig({ HTTP_PORT: 'abc' }, NO_FILE))).toEqual(['HTTP_PORT: "abc" is not a port (an integer from 0 to 65535)']);
    expect(problemsOf(() => loadConfig({ HEARTBEAT_TIMEOUT_S: '-3', TLS_ONLY: 'maybe', LOG_LEVEL: 'loud' }, NO_FILE))).toEqual([
      'TLS_ONLY: "maybe" must be true, false, 1, 0, yes or no',
      'LOG_LEVEL: "loud" must be one of fatal, error, warn, info, debug, trace, silent',
      'HEARTBEAT_TIMEOUT_S: "-3" is not a positive number',
    ]);
    expect(problemsOf(() => loadConfig({ REDIS_URL: 'localhost:6379' }, NO_FILE))).toEqual(['REDIS_URL: "localhost:6379" must be a redis:// URL']);
    const long = `http://${'h'.repeat(200)}`;
    const [shown] = problemsOf(() => loadConfig({ PUBLIC_MQTT_URL: long }, NO_FILE));
    expect(shown).toMatch(/^PUBLIC_MQTT_URL: "http:\/\/h+…" must start with mqtt:\/\//);
    expect(shown?.length).toBeLessThan(long.length);
  });

  it('never echoes a secret: tokens, keys, secrets, the pepper, or a password inside a URL', () => {
    const secrets = {
      ENROLL_TOKEN: 'enroll-s3cr3t',
      ADMIN_TOKEN: 'admin-s3cr3t',
      SECRET_PEPPER: 'pepper-s3cr3t',
      BINDING_SIGNING_KEY: 'binding-s3cr3t',
      FAULT_WEBHOOK_SECRET: 'hook-s3cr3t',
      KEY_VAULT_MASTER_KEY: 'vault-s3cr3t',
    };
    const problems = problemsOf(() => loadConfig({ ...secrets, DATABASE_URL: 'mysql://fleet:db-s3cr3t@db:3306/x' }, NO_FILE));
    expect(problems.map((p) => p.split(':')[0]).sort()).toEqual([...Object.keys(secrets), 'DATABASE_URL'].sort());
    expect(problems).toContain('ENROLL_TOKEN: must be at least 16 characters');
    expect(problems).toContain('KEY_VAULT_MASTER_KEY: must be 32 bytes: 64 hex digits or base64 of 32 bytes');
    expect(problems).toContain('DATABASE_URL: "mysql://fleet:***@db:3306/x" must be a postgres:// URL');
    for (const p of problems) expect(p).not.toMatch(/s3cr3t/);
  });

  it('needs TLS_CERT and TLS_KEY together', () => {
    expect(problemsOf(() => loadConfig({ TLS_CERT: 'c.pem' }, NO_FILE))).toEqual(['TLS_CERT and TLS_KEY: set both or neither']);
    expect(problemsOf(() => loadConfig({ TLS_KEY: 'k.pem' }, NO_FILE))).toEqual(['TLS_CERT and TLS_KEY: set both or neither']);
    expect(loadConfig({ TLS_CERT: 'c.pem', TLS_KEY: 'k.pem' }, NO_FILE)).toMatchObject({ TLS_CERT: 'c.pem', TLS_KEY: 'k.pem' });
  });

  it('TLS_ONLY needs a certificate, and both TLS problems are listed together', () => {
    expect(problemsOf(() => loadConfig({ TLS_ONLY: 'true' }, NO_FILE))).toEqual(['TLS_ONLY: needs TLS_CERT and TLS_KEY']);
    expect(problemsOf(() => loadConfig({ TLS_ONLY: 'true', TLS_KEY: 'k.pem' }, NO_FILE))).toEqual([
      'TLS_CERT and TLS_KEY: set both or neither',
      'TLS_ONLY: needs TLS_CERT and TLS_KEY',
    ]);
  });

  // BUG (server/config.ts, loadConfig: the throw right after safeParse): a schema error throws
  // before the TLS pairing checks run, so an operator fixing the listed problems gets a second, different ConfigError.
  it('lists the TLS pairing problem along with other bad values in the same error', () => {
    const problems = problemsOf(() => loadConfig({ HTTP_PORT: 'eighty', TLS_CERT: 'c.pem' }, NO_FILE));
    expect(problems.some((p) => p.startsWith('HTTP_PORT'))).toBe(true);
    expect(problems).toContain('TLS_CERT and TLS_KEY: set both or neither');
  });

  // BUG (server/config.ts, configSchema.PUBLIC_HTTP_URL): z.url() accepts any scheme, so a value
  // that cannot be an HTTP base URL for enrollment answers and download links passes validation.
  it('refuses a PUBLIC_HTTP_URL that is not http(s)', () => {
    for (const u of ['ftp://tms.example.com', 'javascript:alert(1)', 'mailto:ops@example.com']) {
      expect(problemsOf(() => loadConfig({ PUBLIC_HTTP_URL: u }, NO_FILE))[0], u).toMatch(/^PUBLIC_HTTP_URL: /);
    }
  });
});

describe('loadConfig with a .env file', () => {
  it('uses .env values for what the environment leaves unset', () => {
    const p = dotenv(`HTTP_PORT=9100\nADMIN_TOKEN="${adminToken}"\nDATA_DIR=/var/lib/posfleet\n`);
    expect(loadConfig({}, p)).toMatchObject({ HTTP_PORT: 9100, ADMIN_TOKEN: adminToken, DATA_DIR: '/var/lib/posfleet', MQTT_PORT: 1883 });
  });

  it('lets the environment override .env, and an empty environment value falls back to .env', () => {
    const p = dotenv('HTTP_PORT=9100\nMQTT_PORT=1999\nLOG_LEVEL=warn\n');
    expect(loadConfig({ HTTP_PORT: '9200', MQTT_PORT: '' }, p)).toMatchObject({ HTTP_PORT: 9200, MQTT_PORT: 1999, LOG_LEVEL: 'warn' });
  });

  it('reports bad .env values like bad environment values', () => {
    const p = dotenv('HTTP_PORT=nope\nENROLL_TOKEN=tiny\n');
    expect(problemsOf(() => loadConfig({}, p)).map((x) => x.split(':')[0]).sort()).toEqual(['ENROLL_TOKEN', 'HTTP_PORT']);
    // ... unless the environment replaces them.
    expect(loadConfig({ HTTP_PORT: '81', ENROLL_TOKEN: 'e'.repeat(16) }, p).HTTP_PORT).toBe(81);
  });

  // BUG (server/config.ts, loadConfig: the merge of fromFile and env): empty values are dropped
  // from the environment but not from .env, so a template line `HTTP_PORT=` silently means port 0 (a random port) and
  // `ADMIN_TOKEN=` is a startup error, where the same blanks in the environment mean "unset".
  it('treats an empty .env value as unset, as it does for the environment', () => {
    const p = dotenv('HTTP_PORT=\nADMIN_TOKEN=\nMQTT_PORT=1999\n');
    const cfg = loadConfig({}, p);
    expect(cfg.HTTP_PORT).toBe(8080);
    expect(cfg.ADMIN_TOKEN).toBeUndefined();
    expect(cfg.MQTT_PORT).toBe(1999);
  });
});

describe('parseDotenv', () => {
  it('reads KEY=value lines, trimming around key and value', () => {
    expect(parseDotenv('A=1\n  B = two words  \nC=x=y\n')).toEqual({ A: '1', B: 'two words', C: 'x=y' });
  });

  it('strips one pair of matching quotes only', () => {
    expect(parseDotenv(`A="quoted"\nB='single'\nC="  keep spaces "\nD="mismatch'\nE=""\nF="a"b"\nG=plain"\n`)).toEqual({
      A: 'quoted',
      B: 'single',
      C: '  keep spaces ',
      D: `"mismatch'`,
      E: '',
      F: 'a"b',
      G: 'plain"',
    });
  });

  it('skips comments, blank lines and lines without a key', () => {
    expect(parseDotenv('# a comment\n\n   # indented comment\n=novalue\nNOEQUALS\nA=1\n')).toEqual({ A: '1' });
  });

  it('keeps # inside a value (no inline comments)', () => {
    expect(parseDotenv('TOKEN=abc#def\nQ="x # y"\n')).toEqual({ TOKEN: 'abc#def', Q: 'x # y' });
  });

  it('handles CRLF and the last value wins', () => {
    expect(parseDotenv('A=1\r\nB=2\r\nA=3\r\n')).toEqual({ A: '3', B: '2' });
  });

  it('allows an empty value', () => {
    expect(parseDotenv('A=\n')).toEqual({ A: '' });
  });
});

describe('queuePrefix', () => {
  it('uses QUEUE_PREFIX when set', () => {
    expect(queuePrefix({ QUEUE_PREFIX: 'mine', DATABASE_URL: 'postgres://a/b', DATA_DIR: './data' })).toBe('mine');
  });
  it('otherwise derives a stable prefix from the database, different for different databases', () => {
    const a = queuePrefix({ QUEUE_PREFIX: undefined, DATABASE_URL: 'postgres://h/a', DATA_DIR: './data' });
    expect(a).toMatch(/^posfleet-[0-9a-f]{8}$/);
    expect(queuePrefix({ QUEUE_PREFIX: undefined, DATABASE_URL: 'postgres://h/a', DATA_DIR: '/elsewhere' })).toBe(a);
    expect(queuePrefix({ QUEUE_PREFIX: undefined, DATABASE_URL: 'postgres://h/b', DATA_DIR: './data' })).not.toBe(a);
    const p1 = queuePrefix({ QUEUE_PREFIX: undefined, DATABASE_URL: undefined, DATA_DIR: join(dir, 'one') });
    const p2 = queuePrefix({ QUEUE_PREFIX: undefined, DATABASE_URL: undefined, DATA_DIR: join(dir, 'two') });
    expect(p1).not.toBe(p2);
    expect(queuePrefix({ QUEUE_PREFIX: undefined, DATABASE_URL: undefined, DATA_DIR: join(dir, 'x', '..', 'one') })).toBe(p1);
  });
});
