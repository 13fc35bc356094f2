// The CLI's outcomes as exit codes (docs/cli.md "Exit codes"): scripts branch on them, so each
// has one meaning. An API error keeps the API's code; a usage error says what to type instead.
import { ApiError } from '../client/apiClient.ts';

export const exitCodes = {
  ok: 0,
  /** `… watch`: the campaign ended failed or cancelled; `orgs allocate`: a terminal was refused. */
  outcomeFailed: 1,
  usage: 2,
  /** The API answered with an error, could not be reached, or answered what its schema does not allow. */
  api: 3,
} as const;

export type ExitCode = (typeof exitCodes)[keyof typeof exitCodes];

/** Wrong command line: the message names the right usage. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** A command that ran and has a non-zero outcome to report (a watched campaign that failed). */
export class OutcomeError extends Error {
  constructor(
    message: string,
    readonly code: ExitCode,
  ) {
    super(message);
    this.name = 'OutcomeError';
  }
}

export interface Reported {
  line: string;
  code: ExitCode;
}

/** The one line printed on stderr for a thrown error, and the exit code it means. */
export function reportOf(err: unknown): Reported {
  if (err instanceof ApiError) {
    const status = err.status ? ` (${err.status})` : '';
    return { line: `error: ${err.code}${status}: ${err.message}`, code: exitCodes.api };
  }
  if (err instanceof UsageError) return { line: `usage: ${err.message}`, code: exitCodes.usage };
  if (err instanceof OutcomeError) return { line: err.message, code: err.code };
  // A zod error here is an answer the server's own schema refuses: a CLI and a server of
  // different versions. Said as such, not as a crash.
  if (err instanceof Error && err.name === 'ZodError') {
    return {
      line: `error: unexpected_answer: the server's answer does not match this CLI's version of the API (${err.message.slice(0, 300)})`,
      code: exitCodes.api,
    };
  }
  // A file named on the command line that cannot be read or written is the caller's to fix.
  if (err instanceof Error && 'code' in err && typeof err.code === 'string' && 'path' in err && typeof err.path === 'string') {
    return { line: `error: ${err.code}: ${err.path}: ${err.message}`, code: exitCodes.usage };
  }
  const message = err instanceof Error ? err.message : String(err);
  return { line: `error: ${message}`, code: exitCodes.api };
}
