// Structured JSON logs. Secrets never reach a log line: known secret fields are censored by
// path, and every line's text is scrubbed for bearer tokens and long key-like strings.
import pino, { type Logger } from 'pino';

export type { Logger };

const secretPaths = [
  'password',
  'secret',
  'token',
  'enrollToken',
  'authorization',
  '*.password',
  '*.secret',
  '*.token',
  '*.enrollToken',
  '*.authorization',
  'req.headers.authorization',
  '*.key',
  '*.keyMaterial',
  // Key management: wrapped keys and vault ciphertext never reach a line either.
  'block',
  'sealed',
  '*.block',
  '*.sealed',
  // Master-key import: each custodian's key component (split knowledge).
  'component',
  '*.component',
  '*.items[*].block',
  '*.payload.items[*].block',
];

const bearer = /(Bearer\s+)[A-Za-z0-9._~+/=-]+/gi;
// Long hex or base64 runs look like key material or tokens; ids we log are shorter or prefixed.
const keyLike = /\b(?:[A-Fa-f0-9]{32,}|[A-Za-z0-9+/_-]{40,}={0,2})\b/g;

export function redactText(text: string): string {
  return text.replace(bearer, '$1[redacted]').replace(keyLike, '[redacted]');
}

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      redact: { paths: secretPaths, censor: '[redacted]' },
      hooks: {
        streamWrite: redactText,
      },
      base: { service: 'posfleet' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination,
  );
}
