// Agent logs: JSON on stderr (stdout stays free for the CLI's own output). The MQTT password, the
// enrollment token and key material must never reach a line: censored by field name, and any
// long key-like run in the text is scrubbed as a second line of defence.
import pino, { type Logger } from 'pino';

export type { Logger };

const secretPaths = [
  'password',
  'secret',
  'enrollToken',
  'privateKey',
  'kek',
  'd',
  '*.password',
  '*.secret',
  '*.enrollToken',
  '*.privateKey',
  '*.d',
  'mqtt.password',
  '*.mqtt.password',
];

const keyLike = /\b(?:[A-Fa-f0-9]{40,}|[A-Za-z0-9+/_-]{40,}={0,2})\b/g;

export function scrub(text: string): string {
  return text.replace(keyLike, '[redacted]');
}

export function createAgentLogger(level = process.env.LOG_LEVEL ?? 'info'): Logger {
  return pino(
    {
      level,
      base: { service: 'posfleet-agent' },
      redact: { paths: secretPaths, censor: '[redacted]' },
      hooks: { streamWrite: scrub },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    pino.destination({ fd: 2, sync: true }),
  );
}
