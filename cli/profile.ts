// Where the CLI's server URL and token come from (docs/cli.md "Authentication"):
//   1. `--profile NAME`: that profile of the profile file, nothing else (a named profile is a
//      deliberate choice; an exported variable must not silently redirect it);
//   2. otherwise POSFLEET_URL and POSFLEET_TOKEN, each over the same field of the profile named
//      by POSFLEET_PROFILE or the file's default profile;
//   3. the URL falls back to http://127.0.0.1:8080 (the server's default port).
// The file is ~/.config/posfleet/profiles.json ($XDG_CONFIG_HOME honoured), mode 0600: it holds
// bearer tokens.
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { UsageError } from './errors.ts';

export const DEFAULT_URL = 'http://127.0.0.1:8080';

const profileEntry = z.object({ url: z.url(), token: z.string().min(1) }).strict();
const profileFile = z
  .object({ default: z.string().nullable().default(null), profiles: z.record(z.string(), profileEntry).default({}) })
  .strict();
export type ProfileEntry = z.infer<typeof profileEntry>;
export type ProfileFile = z.infer<typeof profileFile>;

export type Env = Record<string, string | undefined>;

export function profilePath(env: Env): string {
  const base = env.XDG_CONFIG_HOME || join(env.HOME || homedir(), '.config');
  return join(base, 'posfleet', 'profiles.json');
}

export function readProfiles(path: string): ProfileFile {
  if (!existsSync(path)) return { default: null, profiles: {} };
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(path, 'utf8'));
  } catch (cause) {
    throw new Error(`${path} is not JSON; fix or remove it`, { cause });
  }
  const parsed = profileFile.safeParse(data);
  if (!parsed.success) throw new Error(`${path}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return parsed.data;
}

/** Writes the file whole through a temporary one (a crash never leaves half a file), 0600. */
export function writeProfiles(path: string, file: ProfileFile): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, path);
}

export interface Resolved {
  url: string;
  token: string | null;
  /** Where the token came from, for `whoami` and error messages. */
  source: string;
}

export function resolveCredentials(env: Env, profileFlag: string | undefined, file: ProfileFile): Resolved {
  if (profileFlag !== undefined) {
    const p = file.profiles[profileFlag];
    if (!p)
      throw new UsageError(
        `no profile "${profileFlag}" in ${profilePath(env)}; create it with: posfleet login --profile ${profileFlag} --url URL`,
      );
    return { url: p.url, token: p.token, source: `profile ${profileFlag}` };
  }
  const name = env.POSFLEET_PROFILE || file.default;
  const p = name ? file.profiles[name] : undefined;
  if (env.POSFLEET_PROFILE && !p)
    throw new UsageError(`POSFLEET_PROFILE names "${env.POSFLEET_PROFILE}", which is not in ${profilePath(env)}`);
  const token = env.POSFLEET_TOKEN || p?.token || null;
  const source = env.POSFLEET_TOKEN ? 'POSFLEET_TOKEN' : p ? `profile ${name}` : 'none';
  return { url: env.POSFLEET_URL || p?.url || DEFAULT_URL, token, source };
}
