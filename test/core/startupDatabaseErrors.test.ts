// `npm start` with a DATABASE_URL that cannot be used: one line naming what is wrong, no stack,
// exit code 5. Real processes against the PostgreSQL of DATABASE_URL (skipped without it).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const baseUrl = process.env.DATABASE_URL;
const dataDir = mkdtempSync(join(tmpdir(), 'posfleet-dberr-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

/** Runs `server/main.ts` to its exit with `databaseUrl`; its exit code and output. */
function startServer(databaseUrl: string): Promise<{ code: number | null; stderr: string; stdout: string }> {
  const env = { ...process.env, DATABASE_URL: databaseUrl, DATA_DIR: dataDir, HTTP_PORT: '0', MQTT_PORT: '0', LOG_LEVEL: 'warn' };
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], { cwd: join(import.meta.dirname, '..', '..'), env });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  return new Promise((done) => child.on('exit', (code) => done({ code, stderr, stdout })));
}

function expectOneClearLine(run: { code: number | null; stderr: string; stdout: string }, message: string) {
  expect(run.stderr.trim()).toBe(`DATABASE_URL: ${message}`);
  expect(run.stderr).not.toMatch(/Failed query|\n\s+at /);
  expect(run.stdout).not.toContain('posfleet ready');
  expect(run.code).toBe(5);
}

describe.skipIf(!baseUrl)('start-up with an unusable DATABASE_URL [postgres]', () => {
  const server = new URL(baseUrl ?? 'postgres://localhost');
  const address = `${server.hostname}:${server.port || '5432'}`;
  const withPath = (path: string, port = server.port) => {
    const u = new URL(server.href);
    u.pathname = path;
    u.port = port;
    return u.href;
  };

  it('names a database that does not exist and where', async () => {
    const missing = `pf_missing_${process.pid}`;
    expectOneClearLine(await startServer(withPath(`/${missing}`)), `database "${missing}" does not exist on ${address}`);
  }, 60_000);

  it('says nothing listens on the port', async () => {
    expectOneClearLine(await startServer(withPath(server.pathname, '1')), `cannot connect to ${server.hostname}:1 (connection refused)`);
  }, 60_000);

  it('names a user the server does not know', async () => {
    const u = new URL(server.href);
    u.username = `pf_nobody_${process.pid}`;
    u.password = 'never-shown';
    const run = await startServer(u.href);
    // With trust authentication the role is refused as unknown; with passwords, the password fails first.
    expect(run.stderr).toMatch(
      new RegExp(
        `^DATABASE_URL: (role "${u.username}" does not exist on ${address} \\(check the user|password authentication failed for user "${u.username}" on ${address})`,
      ),
    );
    expect(run.stderr).not.toContain('never-shown');
    expect(run.stderr).not.toMatch(/\n\s+at /);
    expect(run.code).toBe(5);
  }, 60_000);
});
