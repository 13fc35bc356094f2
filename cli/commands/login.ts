// login (save a profile), logout, profiles list | use, whoami (docs/cli.md "Authentication").
// login checks the token with GET /v1/me before saving it, and reads it from POSFLEET_TOKEN or
// stdin rather than the command line, where it would land in the shell's history.
import { readFileSync } from 'node:fs';
import { MeSchema } from '../../server/auth/meSchema.ts';
import { parseCommand, positionals, type Command, type Group } from '../context.ts';
import { UsageError } from '../errors.ts';
import { profilePath, readProfiles, writeProfiles } from '../profile.ts';

export const login: Command = {
  summary: 'check a token and save it with the server URL as a profile',
  usage: 'posfleet login --url URL [--profile NAME] [--token-stdin]   (token from POSFLEET_TOKEN, or stdin with --token-stdin)',
  async run(ctx, args) {
    const { values, positionals: rest } = parseCommand(args, { url: { type: 'string' }, 'token-stdin': { type: 'boolean' } }, this.usage);
    if (rest.length) throw new UsageError(this.usage);
    const url = values.url ?? ctx.env.POSFLEET_URL;
    if (!url) throw new UsageError(`the server URL is missing\n  ${this.usage}`);
    const token = values['token-stdin'] ? readFileSync(0, 'utf8').trim() : ctx.env.POSFLEET_TOKEN;
    if (!token) throw new UsageError(`no token: set POSFLEET_TOKEN or pipe it in with --token-stdin\n  ${this.usage}`);
    const me = await ctx.clientFor(url, token).call(MeSchema, 'GET', '/v1/me');
    const path = profilePath(ctx.env);
    const file = readProfiles(path);
    const name = ctx.profileFlag ?? 'default';
    file.profiles[name] = { url, token };
    if (!file.default || !file.profiles[file.default]) file.default = name;
    writeProfiles(path, file);
    ctx.out.line(
      `signed in to ${url} as ${me.name} (${me.role}); profile "${name}" saved in ${path}${file.default === name ? ' (default)' : ''}`,
    );
  },
};

const logout: Command = {
  summary: 'remove a profile (the token stays valid on the server)',
  usage: 'posfleet logout [--profile NAME]',
  async run(ctx, args) {
    parseCommand(args, {}, this.usage);
    const path = profilePath(ctx.env);
    const file = readProfiles(path);
    const name = ctx.profileFlag ?? file.default;
    if (!name || !file.profiles[name]) throw new UsageError(`no profile ${name ? `"${name}" ` : ''}to remove in ${path}`);
    delete file.profiles[name];
    if (file.default === name) file.default = Object.keys(file.profiles)[0] ?? null;
    writeProfiles(path, file);
    ctx.out.line(`profile "${name}" removed`);
  },
};

const list: Command = {
  summary: 'the saved profiles (tokens not shown)',
  usage: 'posfleet profiles list [--json]',
  async run(ctx, args) {
    parseCommand(args, {}, this.usage);
    const file = readProfiles(profilePath(ctx.env));
    const rows = Object.entries(file.profiles).map(([name, p]) => ({ name, url: p.url, default: name === file.default }));
    if (ctx.json) return ctx.out.json(rows);
    ctx.out.table(rows, [
      { header: 'name', value: (r) => `${r.name}${r.default ? ' *' : ''}` },
      { header: 'url', value: (r) => r.url },
    ]);
  },
};

const use: Command = {
  summary: 'make a profile the default',
  usage: 'posfleet profiles use <name>',
  async run(ctx, args) {
    const [name] = positionals(parseCommand(args, {}, this.usage).positionals, 1, this.usage);
    const path = profilePath(ctx.env);
    const file = readProfiles(path);
    if (!file.profiles[name!]) throw new UsageError(`no profile "${name}" in ${path}`);
    file.default = name!;
    writeProfiles(path, file);
    ctx.out.line(`default profile: ${name}`);
  },
};

export const whoami: Command = {
  summary: 'who the token belongs to, and where the URL and token came from',
  usage: 'posfleet whoami [--json]',
  async run(ctx, args) {
    parseCommand(args, {}, this.usage);
    const c = ctx.credentials();
    const me = await ctx.client().call(MeSchema, 'GET', '/v1/me');
    if (ctx.json) return ctx.out.json(me);
    ctx.out.line(`${me.name} (${me.role}, ${me.id}) at ${c.url}; token from ${c.source}`);
  },
};

export const logoutCommand = logout;
export const profilesGroup: Group = { summary: 'saved profiles: list, use', commands: { list, use } };
