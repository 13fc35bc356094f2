// Structured JSON logs. Secrets never reach a log line: known secret fields are censored by
// path, a failed query is logged by its statement and never by its values, and every line's text
// is scrubbed for bearer tokens, query parameters and long key-like strings.
import { DrizzleQueryError } from 'drizzle-orm/errors';
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

// drizzle's query error message ends in "\nparams: <every value>" (the stack repeats it); in a
// JSON line that runs to the end of the string or to the first stack frame. The net under
// serializeError, for a message logged as a plain string.
const queryParams = /(\\nparams: )(?:(?!\\n {4}at )(?:[^"\\]|\\.))*/g;

export function redactText(text: string): string {
  return text.replace(bearer, '$1[redacted]').replace(queryParams, '$1[redacted]').replace(keyLike, '[redacted]');
}

// Fields of a database error that hold the values a statement was given (pg and PGlite errors:
// `detail` names the row or key, `where` a bad parameter; drizzle's `params` is all of them).
const valueFields = ['params', 'detail', 'where', 'internalQuery'] as const;
// SQLSTATE class 22 (data exception) messages quote the value they could not take.
const dataException = /^22/;
const quoted = /"(?:[^"\\]|\\.)*"/g;
const STATEMENT_CHARS = 500;

/** The message an error in a failed query's chain is logged with, or undefined to keep its own. */
function messageWithoutValues(err: Error): string | undefined {
  if (err instanceof DrizzleQueryError) {
    const statement = err.query.length > STATEMENT_CHARS ? `${err.query.slice(0, STATEMENT_CHARS)}…` : err.query;
    return `Failed query: ${statement}`;
  }
  const code = 'code' in err ? err.code : undefined;
  if (typeof code === 'string' && dataException.test(code)) return err.message.replace(quoted, '[redacted]');
  return undefined;
}

function causeChain(err: Error): Error[] {
  const chain: Error[] = [];
  for (let e: unknown = err; e instanceof Error && !chain.includes(e); e = e.cause) chain.push(e);
  return chain;
}

/** pino's error serializer (message and stack include the causes'), minus what a failed query was given. */
export function serializeError(value: unknown): unknown {
  if (!(value instanceof Error)) return value;
  const out = pino.stdSerializers.err(value);
  for (const e of causeChain(value)) {
    const message = messageWithoutValues(e);
    if (message === undefined || !e.message) continue;
    out.message = out.message.replaceAll(e.message, message);
    out.stack = out.stack.replaceAll(e.message, message);
  }
  for (const field of valueFields) delete out[field];
  return out;
}

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      redact: { paths: secretPaths, censor: '[redacted]' },
      serializers: { err: serializeError, error: serializeError },
      hooks: {
        streamWrite: redactText,
      },
      base: { service: 'posfleet' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination,
  );
}
