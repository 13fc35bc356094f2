// Where the CLI's URL and token come from, as a child process sees it: `login` checks the token
// and writes the profile file (0600); the default profile serves when nothing else is said;
// POSFLEET_TOKEN / POSFLEET_URL override it; `--profile` beats the environment.
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { onDefaultServer, TEST_ADMIN_TOKEN } from '../helpers/testServer.ts';
import { runCli, scratchHome } from './runCli.ts';

onDefaultServer('operator CLI: profiles and tokens', (server) => {
  let home = '';
  let operatorToken = '';
  beforeAll(async () => {
    home = scratchHome();
    const r = await server().api<{ token: string }>('POST', '/v1/users', { name: 'cli-operator', role: 'operator' });
    expect(r.status).toBe(201);
    operatorToken = r.body.token;
  });
  const file = () => join(home, '.config/posfleet/profiles.json');

  it('login refuses a bad token with the API code and saves nothing', async () => {
    const r = await runCli(['login', '--url', server().url], { env: { HOME: home, POSFLEET_TOKEN: 'pf_not-a-token' } });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/^error: unauthorized \(401\): /);
    expect(() => statSync(file())).toThrow();
  });

  it('login saves the checked token (stdin) as the default profile, mode 0600', async () => {
    const r = await runCli(['login', '--url', server().url, '--token-stdin'], { env: { HOME: home }, input: `${TEST_ADMIN_TOKEN}\n` });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('profile "default" saved');
    expect(statSync(file()).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(file(), 'utf8'))).toEqual({
      default: 'default',
      profiles: { default: { url: server().url, token: TEST_ADMIN_TOKEN } },
    });
    const ops = await runCli(['login', '--profile', 'ops', '--url', server().url], { env: { HOME: home, POSFLEET_TOKEN: operatorToken } });
    expect(ops.code).toBe(0);
    const list = await runCli(['profiles', 'list', '--json'], { env: { HOME: home } });
    expect(JSON.parse(list.stdout)).toEqual([
      { name: 'default', url: server().url, default: true },
      { name: 'ops', url: server().url, default: false },
    ]);
    expect(list.stdout).not.toContain(TEST_ADMIN_TOKEN);
  });

  it('precedence: --profile over POSFLEET_TOKEN over the default profile', async () => {
    const who = async (args: string[], env: Record<string, string>) => {
      const r = await runCli(['whoami', '--json', ...args], { env: { HOME: home, ...env } });
      expect(r.stderr).toBe('');
      return (JSON.parse(r.stdout) as { name: string }).name;
    };
    expect(await who([], {})).toBe('admin');
    expect(await who([], { POSFLEET_TOKEN: operatorToken })).toBe('cli-operator');
    expect(await who(['--profile', 'ops'], {})).toBe('cli-operator');
    expect(await who(['--profile', 'default'], { POSFLEET_TOKEN: operatorToken })).toBe('admin');
    expect(await who([], { POSFLEET_PROFILE: 'ops' })).toBe('cli-operator');
    // POSFLEET_URL overrides the profile's URL: pointed at nothing, the call cannot reach a server.
    const away = await runCli(['whoami'], { env: { HOME: home, POSFLEET_URL: 'http://127.0.0.1:9' } });
    expect(away.code).toBe(3);
    expect(away.stderr).toMatch(/^error: network: /);
    const unknown = await runCli(['whoami', '--profile', 'nope'], { env: { HOME: home } });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('no profile "nope"');
    const use = await runCli(['profiles', 'use', 'ops'], { env: { HOME: home } });
    expect(use.code).toBe(0);
    expect(await who([], {})).toBe('cli-operator');
  });

  it('a role the API refuses is its code: an operator may not list users', async () => {
    const r = await runCli(['users', 'list'], { env: { HOME: home, POSFLEET_TOKEN: operatorToken, POSFLEET_URL: server().url } });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/^error: forbidden \(403\): /);
  });

  it('users create prints the first token once; tokens issue gives the caller another that works', async () => {
    const env = { HOME: scratchHome(), POSFLEET_TOKEN: TEST_ADMIN_TOKEN, POSFLEET_URL: server().url };
    const created = await runCli(['users', 'create', '--name', 'cli-tech', '--role', 'technician'], { env });
    expect(created.code).toBe(0);
    const token = /^token \(shown once\): (\S+)$/m.exec(created.stdout)?.[1];
    expect(token).toBeDefined();
    const issued = await runCli(['tokens', 'issue'], { env: { ...env, POSFLEET_TOKEN: token! } });
    expect(issued.code).toBe(0);
    const second = issued.stdout.trim();
    expect(second).not.toBe(token);
    const me = await runCli(['whoami', '--json'], { env: { ...env, POSFLEET_TOKEN: second } });
    expect(JSON.parse(me.stdout)).toMatchObject({ name: 'cli-tech', role: 'technician' });
    const users = await runCli(['users', 'list', '--json', '--limit', '500'], { env });
    const page: { items: { name: string; role: string }[] } = JSON.parse(users.stdout);
    expect(page.items).toContainEqual(expect.objectContaining({ name: 'cli-tech', role: 'technician' }));
  });
});

onDefaultServer('operator CLI: keys', (server) => {
  it("keys rotations list and keys approvals list parse the API's answers; an unknown request is not_found", async () => {
    const env = { HOME: scratchHome(), POSFLEET_TOKEN: TEST_ADMIN_TOKEN, POSFLEET_URL: server().url };
    const rotations = await runCli(['keys', 'rotations', 'list', '--json'], { env });
    expect(rotations.code).toBe(0);
    expect(JSON.parse(rotations.stdout)).toEqual({ items: [], nextCursor: null });
    const approvals = await runCli(['keys', 'approvals', 'list'], { env });
    expect(approvals.code).toBe(0);
    expect(approvals.stderr.trim()).toBe('(none)');
    const missing = await runCli(['keys', 'approvals', 'approve', 'kapr_AAAAAAAAAAAAAAAA'], { env });
    expect(missing.code).toBe(3);
    expect(missing.stderr).toMatch(/^error: not_found \(404\): /);
    const usage = await runCli(['keys', 'rotations'], { env });
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('posfleet keys rotations <command>');
  });
});

describe('operator CLI: no token', () => {
  it('is a usage error naming both ways to give one', async () => {
    const r = await runCli(['devices', 'list'], { env: { HOME: scratchHome() } });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('set POSFLEET_TOKEN, or run `posfleet login');
  });
});
