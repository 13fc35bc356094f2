// Flag parsing for `npm run agent`, pure so bad flags are tested without starting anything.
import { parseArgs } from 'node:util';
import { join } from 'node:path';

export class UsageError extends Error {
  override name = 'UsageError';
}

export const agentUsage = `usage: npm run agent -- --server URL --serial SERIAL --model MODEL --enroll-token TOKEN
       [--state-dir DIR]        state (credentials, keys, firmware slots); default ./agent-state/<serial>
       [--mqtt-url URL]         broker URL tried before the ones the server handed out
       [--ca FILE]              PEM CA to pin for HTTPS and MQTT over TLS
       [--health-interval-s N]  health reporting interval (default 60; a server config.set wins)
       [--fw-version X.Y.Z]     factory firmware version for a fresh state dir (default 1.0.0)
--enroll-token may be left out once the state dir holds credentials.`;

export interface AgentCliOptions {
  server: string;
  serial: string;
  model: string;
  enrollToken?: string;
  stateDir: string;
  mqttUrl?: string;
  ca?: string;
  healthIntervalS: number;
  fwVersion: string;
}

const urlOf = (flag: string, value: string, schemes: string[]) => {
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    throw new UsageError(`${flag}: "${value}" is not a URL`);
  }
  if (!schemes.includes(u.protocol)) throw new UsageError(`${flag}: scheme must be one of ${schemes.join(', ')} (got ${u.protocol})`);
  return value;
};

export function positiveInt(flag: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${flag}: expected a whole number ≥ 1, got "${value}"`);
  return n;
}

// Serials name the state dir, so they must be safe as a path segment.
const SERIAL = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** Strict parse of flags that all take a value: an unknown flag, one without its value, or a
 *  `required` one left out is a UsageError, so every entry point refuses bad flags alike. */
export function parseStringFlags<const N extends string>(
  argv: string[],
  names: readonly N[],
  required: readonly NoInfer<N>[],
): Partial<Record<N, string>> {
  let values: ReturnType<typeof parseArgs>['values'];
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: Object.fromEntries(names.map((name) => [name, { type: 'string' as const }])),
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const flags: Partial<Record<N, string>> = {};
  for (const name of names) {
    const value = values[name];
    if (typeof value === 'string') flags[name] = value;
  }
  const missing = required.filter((name) => !flags[name]).map((name) => `--${name}`);
  if (missing.length) throw new UsageError(`missing ${missing.join(', ')}`);
  return flags;
}

export function parseAgentArgs(argv: string[]): AgentCliOptions {
  const values = parseStringFlags(
    argv,
    ['server', 'serial', 'model', 'enroll-token', 'state-dir', 'mqtt-url', 'ca', 'health-interval-s', 'fw-version'],
    ['server', 'serial', 'model'],
  );
  const serial = values.serial!;
  if (!SERIAL.test(serial)) throw new UsageError(`--serial: "${serial}" must be 1-64 letters, digits, '.', '_' or '-'`);
  const fwVersion = values['fw-version'] ?? '1.0.0';
  if (!/^\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.-]+)?$/.test(fwVersion))
    throw new UsageError(`--fw-version: "${fwVersion}" is not a semver version`);
  return {
    server: urlOf('--server', values.server!, ['http:', 'https:']),
    serial,
    model: values.model!,
    ...(values['enroll-token'] ? { enrollToken: values['enroll-token'] } : {}),
    stateDir: values['state-dir'] ?? join('agent-state', serial),
    ...(values['mqtt-url'] ? { mqttUrl: urlOf('--mqtt-url', values['mqtt-url'], ['mqtt:', 'mqtts:', 'ws:', 'wss:', 'tcp:', 'tls:']) } : {}),
    ...(values.ca ? { ca: values.ca } : {}),
    healthIntervalS: positiveInt('--health-interval-s', values['health-interval-s'], 60),
    fwVersion,
  };
}
