// What every command gets: the output, whether `--json` was asked, and the API client built from
// the resolved profile or environment (cli/profile.ts) only when the command calls the API.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { createApiClient, type ApiClient } from '../client/apiClient.ts';
import { UsageError } from './errors.ts';
import type { Output } from './output.ts';
import { profilePath, readProfiles, resolveCredentials, type Env, type Resolved } from './profile.ts';

export interface Ctx {
  readonly out: Output;
  readonly json: boolean;
  readonly env: Env;
  /** `--profile NAME`, when given. */
  readonly profileFlag: string | undefined;
  credentials(): Resolved;
  /** The API client with the resolved URL and token; a usage error when there is no token. */
  client(): ApiClient;
  /** A client for `url` with `token` (login checks a candidate before saving it). */
  clientFor(url: string, token: string): ApiClient;
}

export function createCtx(out: Output, env: Env, json: boolean, profileFlag: string | undefined): Ctx {
  let resolved: Resolved | undefined;
  const credentials = (): Resolved => (resolved ??= resolveCredentials(env, profileFlag, readProfiles(profilePath(env))));
  const clientFor = (url: string, token: string | null) => createApiClient({ baseUrl: url, token: () => token });
  return {
    out,
    json,
    env,
    profileFlag,
    credentials,
    clientFor,
    client() {
      const c = credentials();
      if (!c.token) throw new UsageError('no API token: set POSFLEET_TOKEN, or run `posfleet login --url URL` to save a profile');
      return clientFor(c.url, c.token);
    },
  };
}

/** One command's own options (global ones are taken off before, cli/posfleet.ts); a usage error on anything else. */
export function parseCommand<const O extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: O, usage: string) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError(`${err instanceof Error ? err.message : String(err)}\n  ${usage}`);
  }
}

/** Exactly `n` positional arguments, or a usage error. */
export function positionals(got: string[], n: number, usage: string): string[] {
  if (got.length !== n) throw new UsageError(usage);
  return got;
}

/** `--limit` as the API's page size (1-500). */
export function limitOf(raw: string | undefined, usage: string): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 500) throw new UsageError(`--limit takes 1 to 500\n  ${usage}`);
  return n;
}

export interface Command {
  summary: string;
  usage: string;
  run(ctx: Ctx, args: string[]): Promise<void>;
}

/** A word that groups commands: `devices`, `keys rotations`. */
export interface Group {
  summary: string;
  commands: Record<string, Command | Group>;
}

export const isGroup = (n: Command | Group): n is Group => 'commands' in n;

/** A first word of the command line, whose module loads when it is typed (cli/commands/index.ts). */
export interface Area {
  summary: string;
  load(): Promise<Command | Group>;
}
