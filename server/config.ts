// Settings come from the environment (and an optional .env), validated once at start with a
// clear message per bad value.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import { parseProxyEntry } from './http/clientAddress.ts';
import { parseMasterKey } from './keys/masterKey.ts';

// Messages read after the quoted bad value: `HTTP_PORT: "abc" is not a port (…)`.
const notAPort = { error: 'is not a port (an integer from 0 to 65535)' };
const port = z.coerce.number(notAPort).int(notAPort).min(0, notAPort).max(65535, notAPort);
const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'], { error: 'must be true, false, 1, 0, yes or no' })
  .transform((v) => v === 'true' || v === '1' || v === 'yes');
const notPositive = { error: 'is not a positive number' };
const positive = z.coerce.number(notPositive).positive(notPositive);
const isMasterKey = (v: string) => {
  try {
    return parseMasterKey(v).length === 32;
  } catch {
    return false;
  }
};
const oneOf = <const T extends readonly [string, ...string[]]>(values: T) => z.enum(values, { error: `must be one of ${values.join(', ')}` });

export const configSchema = z.object({
  HTTP_PORT: port.default(8080),
  MQTT_PORT: port.default(1883),
  /** MQTT over WebSocket; off unless set. */
  MQTT_WS_PORT: port.optional(),
  /** Address the listeners bind to; loopback by default for a first look. */
  HOST: z.string().min(1).default('127.0.0.1'),
  /** How devices reach this server (enrollment answers and download links use it). */
  PUBLIC_HTTP_URL: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }).optional(),
  PUBLIC_MQTT_URL: z.string().regex(/^mqtts?:\/\/|^wss?:\/\//, 'must start with mqtt://, mqtts://, ws:// or wss://').optional(),
  /** Broker URLs terminals try after PUBLIC_MQTT_URL (comma-separated): how a fleet moves (docs/operations.md). */
  MQTT_FALLBACK_URLS: z
    .string()
    .refine((v) => v.split(',').every((u) => u.trim() === '' || /^(mqtts?|wss?):\/\/\S+$/.test(u.trim())), 'must be comma-separated mqtt://, mqtts://, ws:// or wss:// URLs')
    .optional(),
  DATA_DIR: z.string().min(1).default('./data'),
  /** Firmware images and log bundles; default DATA_DIR. In a cluster, a directory every instance sees. */
  SHARED_DIR: z.string().min(1).optional(),
  DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL').optional(),
  REDIS_URL: z.string().regex(/^rediss?:\/\//, 'must be a redis:// URL').optional(),
  /** Prefix of every BullMQ key, so several deployments (or test runs) can share one Redis.
   * Default: derived from the database in use, so two deployments never take each other's jobs. */
  QUEUE_PREFIX: z.string().min(1).optional(),
  ENROLL_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  ADMIN_TOKEN: z.string().min(24, 'must be at least 24 characters').optional(),
  /** Key for the keyed hash of device secrets and API tokens; else DATA_DIR/pepper.key. */
  SECRET_PEPPER: z.string().min(32, 'must be at least 32 characters').optional(),
  FIRMWARE_PUBLISHER_KEYS: z.string().optional(),
  /** Ed25519 key (PKCS#8 PEM) signing binding tokens; else DATA_DIR/binding.key. Share it across instances. */
  BINDING_SIGNING_KEY: z.string().includes('PRIVATE KEY', { error: 'must be a PKCS#8 PEM private key' }).optional(),
  /** Checked here, so a bad key is a configuration error at start rather than a key module's stack. */
  KEY_VAULT_MASTER_KEY: z.string().refine(isMasterKey, 'must be 32 bytes: 64 hex digits or base64 of 32 bytes').optional(),
  /** Who holds the keys (docs/keys.md): the software simulation, or a PKCS#11 token (an HSM). */
  KEY_VAULT: oneOf(['software', 'pkcs11'] as const).default('software'),
  /** KEY_VAULT=pkcs11: the vendor's PKCS#11 library (.so). */
  HSM_PKCS11_LIBRARY: z.string().optional(),
  /** KEY_VAULT=pkcs11: the slot id, or else HSM_TOKEN_LABEL names the token. */
  HSM_SLOT: z.coerce.number({ error: 'must be a slot id (a whole number)' }).int({ error: 'must be a slot id (a whole number)' }).min(0, { error: 'must be a slot id (a whole number)' }).optional(),
  HSM_TOKEN_LABEL: z.string().max(32, 'a PKCS#11 token label is at most 32 characters').optional(),
  /** KEY_VAULT=pkcs11: a file holding the user PIN (never the PIN itself in the environment). */
  HSM_PIN_FILE: z.string().optional(),
  TLS_CERT: z.string().optional(),
  TLS_KEY: z.string().optional(),
  MQTTS_PORT: port.default(8883),
  TLS_ONLY: bool.default(false),
  LOG_LEVEL: oneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** A device silent for this long is offline even without a last will. */
  HEARTBEAT_TIMEOUT_S: positive.default(120),
  /** One stored health sample per device per this many seconds. */
  HEALTH_HISTORY_INTERVAL_S: positive.default(300),
  /** How often buffered telemetry is written to the database. */
  FLUSH_INTERVAL_MS: positive.default(1000),
  /** Per-device publish rate (messages/second, averaged) before throttling. */
  DEVICE_MAX_MSGS_PER_S: positive.default(20),
  /** Burst allowance on top of the rate. */
  DEVICE_BURST: positive.default(100),
  /** Dropped messages over the limit, in a row, before the device is disconnected. */
  DEVICE_FLOOD_DISCONNECT_AFTER: positive.default(200),
  /** New MQTT connections authenticating at once, beyond which the next get CONNACK 3 (docs/operations.md#connect-admission). */
  MQTT_MAX_PENDING_CONNECTS: positive.int({ error: 'is not a positive whole number' }).default(1000),
  /** MQTT authentications started per second (and at one instant), beyond which the next get CONNACK 3. */
  MQTT_MAX_CONNECTS_PER_S: positive.default(1000),
  COMMAND_DEFAULT_TTL_S: positive.default(7 * 24 * 3600),
  HTTP_BODY_LIMIT_BYTES: positive.default(1024 * 1024),
  /** Proxies whose X-Forwarded-For is believed (addresses or CIDR blocks, comma-separated). */
  TRUSTED_PROXIES: z
    .string()
    .default('')
    .transform((v) => v.split(',').map((e) => e.trim()).filter((e) => e.length > 0))
    .refine((list) => list.every((e) => parseProxyEntry(e) !== null), 'must be comma-separated IP addresses or CIDR blocks, e.g. 10.0.0.0/8,192.168.1.10'),
  /** Campaigns (rollouts, key rotations): first retry delay after a transient failure (doubles per attempt). */
  CAMPAIGN_RETRY_BASE_MS: positive.default(30_000),
  /** How often the campaign engine applies its decisions (phases, sends, timeouts). */
  CAMPAIGN_TICK_MS: positive.default(1000),
  /** Terminal parameters (docs/parameters.md): drift this long after a push settled opens the parameters_drift fault. */
  PARAMETERS_DRIFT_ALERT_S: positive.default(900),
  /** Fault webhook (server/faults, docs/faults.md); settings made through the API take over. */
  FAULT_WEBHOOK_URL: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }).optional(),
  FAULT_WEBHOOK_MIN_SEVERITY: oneOf(['info', 'warning', 'major', 'critical']).default('critical'),
  /** HMAC-SHA256 key of X-Posfleet-Signature; needed with FAULT_WEBHOOK_URL. */
  FAULT_WEBHOOK_SECRET: z.string().min(16, 'must be at least 16 characters').optional(),
  /** Largest log bundle a terminal may upload. */
  LOG_BUNDLE_MAX_BYTES: positive.default(16 * 1024 * 1024),
  /** Several instances over one PostgreSQL and one Redis (docs/cluster.md); needs DATABASE_URL. */
  CLUSTER: bool.default(false),
  /** This instance's name in the cluster; generated at start when unset. */
  INSTANCE_ID: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'must be 1 to 64 letters, digits, dots, dashes or underscores').optional(),
});

export type Config = z.infer<typeof configSchema>;

/** The BullMQ prefix: QUEUE_PREFIX, else one tied to this deployment's database. */
export function queuePrefix(cfg: Pick<Config, 'QUEUE_PREFIX' | 'DATABASE_URL' | 'DATA_DIR'>): string {
  if (cfg.QUEUE_PREFIX) return cfg.QUEUE_PREFIX;
  const identity = cfg.DATABASE_URL ?? `pglite:${resolve(cfg.DATA_DIR)}`;
  return `posfleet-${createHash('sha256').update(identity).digest('hex').slice(0, 8)}`;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

// Secrets are never echoed back: a log of a failed start must not hold a token or a key.
const SECRET_SETTING = /(_TOKEN|_KEY|_SECRET|PEPPER)$/;
const SHOWN_VALUE_MAX = 80;

/** `KEY: "value" message`, so the operator sees what was read; secrets and URL passwords stay hidden. */
function problemWithValue(key: string, value: string | undefined, message: string): string {
  if (value === undefined || SECRET_SETTING.test(key)) return `${key}: ${message}`;
  const withoutPassword = value.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@]*):[^@/]*@/i, '$1:***@');
  const shown = withoutPassword.length > SHOWN_VALUE_MAX ? `${withoutPassword.slice(0, SHOWN_VALUE_MAX)}…` : withoutPassword;
  return `${key}: ${JSON.stringify(shown)} ${message}`;
}

/** Parses `KEY=value` lines; quotes optional; `#` comments. */
export function parseDotenv(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    const key = line.slice(0, eq).trim();
    let value = line.slice(eq + 1).trim();
    if (/^(['"]).*\1$/.test(value)) value = value.slice(1, -1);
    out[key] = value;
  }
  return out;
}

/** Reads settings from `env`, with `.env` (if present) filling what the environment leaves unset. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, dotenvPath = resolve('.env')): Config {
  const fromFile = existsSync(dotenvPath) ? parseDotenv(readFileSync(dotenvPath, 'utf8')) : {};
  // An empty value means "unset", whether it comes from the environment or from .env.
  const merged: Record<string, string | undefined> = {};
  for (const source of [fromFile, env]) {
    for (const [k, v] of Object.entries(source)) if (v !== undefined && v.trim() !== '') merged[k] = v;
  }
  const parsed = configSchema.safeParse(merged);
  const problems = parsed.success ? [] : parsed.error.issues.map((i) => problemWithValue(String(i.path[0]), merged[String(i.path[0])], i.message));
  // Checks across settings run on the raw values too, so every problem is listed at once.
  if (Boolean(merged.TLS_CERT) !== Boolean(merged.TLS_KEY)) problems.push('TLS_CERT and TLS_KEY: set both or neither');
  if (/^(true|1|yes)$/.test(merged.TLS_ONLY ?? '') && !merged.TLS_CERT) problems.push('TLS_ONLY: needs TLS_CERT and TLS_KEY');
  if (merged.FAULT_WEBHOOK_URL && !merged.FAULT_WEBHOOK_SECRET) problems.push('FAULT_WEBHOOK_SECRET: needed with FAULT_WEBHOOK_URL (the webhook is signed)');
  // PGlite is one process's embedded database: instances cannot share it.
  if (/^(true|1|yes)$/.test(merged.CLUSTER ?? '') && !merged.DATABASE_URL)
    problems.push('CLUSTER: needs DATABASE_URL (a PostgreSQL every instance reaches); the embedded PGlite serves one instance only');
  // An image uploaded through one instance is downloaded through any: they must share the files.
  if (/^(true|1|yes)$/.test(merged.CLUSTER ?? '') && !merged.SHARED_DIR)
    problems.push('CLUSTER: needs SHARED_DIR (firmware images and log bundles, on a file system every instance mounts)');
  // Without REDIS_URL each instance would find or start a Redis of its own.
  if (/^(true|1|yes)$/.test(merged.CLUSTER ?? '') && !merged.REDIS_URL) problems.push('CLUSTER: needs REDIS_URL (the one Redis every instance shares)');
  if (merged.KEY_VAULT === 'pkcs11') {
    if (!merged.HSM_PKCS11_LIBRARY) problems.push('HSM_PKCS11_LIBRARY: needed with KEY_VAULT=pkcs11 (the path of the PKCS#11 library)');
    if (!merged.HSM_PIN_FILE) problems.push('HSM_PIN_FILE: needed with KEY_VAULT=pkcs11 (a file holding the user PIN)');
    if (!merged.HSM_SLOT === !merged.HSM_TOKEN_LABEL) problems.push('HSM_SLOT or HSM_TOKEN_LABEL: set one of them with KEY_VAULT=pkcs11');
    if (merged.HSM_PIN) problems.push('HSM_PIN: the PIN is read only from the file HSM_PIN_FILE names, never from the environment');
    if (merged.KEY_VAULT_MASTER_KEY) problems.push('KEY_VAULT_MASTER_KEY: not used with KEY_VAULT=pkcs11 (the master key is a key in the token)');
  }
  if (problems.length || !parsed.success) throw new ConfigError(problems);
  return parsed.data;
}
