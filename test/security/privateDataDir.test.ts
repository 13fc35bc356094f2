// DATA_DIR is for the server's user only, whatever umask it is started with: `npm start` under
// umask 000 (a child process: the umask is the process's), a log bundle and a firmware image
// stored, then every path under DATA_DIR is checked, and another user is shown unable to read a
// PGlite file (PGlite writes its files with the umask's modes; its 0700 directories are what
// keep them private).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { generatePublisherKey, signManifest } from '../../scripts/sign-firmware.ts';
import { signUpload, uploadUrl } from '../../server/faults/signedUrl.ts';
import { createSecretHasher, loadPepper } from '../../server/security/secretHasher.ts';
import { createApiClient } from '../helpers/apiClient.ts';
import { createScratchPostgres, databaseKinds, requiredDatabaseUrl } from '../helpers/databases.ts';
import { kekPublicKey, uniqueSerial } from '../helpers/devices.ts';
import { eventually } from '../helpers/eventually.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const ADMIN = 'pf_umask-admin-token-0123456789abcdef';
const ENROLL = 'umask-enroll-token-0123456789';
const NOBODY = '65534';

function underUmask000(args: string[], env: NodeJS.ProcessEnv): ChildProcess {
  return spawn('sh', ['-c', 'umask 000 && exec "$@"', 'sh', ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
}

function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((ok) => child.once('exit', (code) => ok(code)));
}

function everyPath(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).map((p) => join(dir, p));
}

const modeOf = (path: string) => lstatSync(path).mode & 0o777;
const readableByNobody = (path: string) =>
  spawnSync('setpriv', [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', 'cat', path], { stdio: 'ignore' }).status === 0;

describe('DATA_DIR under umask 000', () => {
  const root = mkdtempSync(join(tmpdir(), 'posfleet-umask-'));
  const children = new Set<ChildProcess>();
  const cleanups: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    for (const clean of cleanups) await clean();
    rmSync(root, { recursive: true, force: true });
  });

  for (const database of databaseKinds())
    it(
      `the server keeps everything it writes owner-only, and narrows a DATA_DIR that exists wider [${database}]`,
      { timeout: 180_000 },
      async () => {
        const dataDir = join(root, `data-${database}`);
        const scratch = database === 'postgres' ? await createScratchPostgres(requiredDatabaseUrl()) : undefined;
        cleanups.push(async () => scratch?.drop());
        mkdirSync(dataDir, { mode: 0o777 });
        const publisher = generatePublisherKey();
        const env: NodeJS.ProcessEnv = {
          ...process.env,
          DATA_DIR: dataDir,
          HTTP_PORT: '0',
          MQTT_PORT: '0',
          HOST: '127.0.0.1',
          ADMIN_TOKEN: ADMIN,
          ENROLL_TOKEN: ENROLL,
          FIRMWARE_PUBLISHER_KEYS: publisher.publicKeyBase64,
          QUEUE_PREFIX: `umask-${randomBytes(4).toString('hex')}`,
          LOG_LEVEL: 'warn',
        };
        delete env.DATABASE_URL;
        if (scratch) env.DATABASE_URL = scratch.url;
        const server = underUmask000([process.execPath, '--import', 'tsx', 'server/main.ts'], env);
        children.add(server);
        let out = '';
        server.stdout!.on('data', (b: Buffer) => (out += b.toString()));
        server.stderr!.on('data', (b: Buffer) => (out += b.toString()));
        const httpUrl = await eventually(() => /HTTP API\s+(http:\/\/\S+)/.exec(out)?.[1], {
          timeoutMs: 120_000,
          what: 'posfleet ready',
        }).catch((err: unknown) => {
          throw new Error(`${String(err)}\n${out}`);
        });
        const api = createApiClient({ baseUrl: () => httpUrl, defaultToken: ADMIN });

        // A log bundle: the terminal's PUT to its signed link, signed here with the pepper the server created.
        const serial = uniqueSerial('UMASK');
        expect((await api('POST', '/v1/devices', { serial, model: 'PAX-A920' })).status).toBe(201);
        const enrolled = await api<{ deviceId: string }>(
          'POST',
          '/v1/enroll',
          { serial, model: 'PAX-A920', fwVersion: '1.0.0', kekPublicKey: kekPublicKey(), enrollToken: ENROLL },
          { token: null },
        );
        expect(enrolled.status).toBe(201);
        const bundle = await api<{ id: string; expiresAt: string }>('POST', `/v1/devices/${enrolled.body.deviceId}/logs`, {});
        expect(bundle.status).toBe(201);
        const hasher = createSecretHasher(loadPepper({ dataDir }));
        const expMs = Date.parse(bundle.body.expiresAt);
        const link = uploadUrl(httpUrl, bundle.body.id, expMs, signUpload(hasher, bundle.body.id, expMs));
        const put = await fetch(link, { method: 'PUT', body: 'a log line\n', headers: { 'content-type': 'text/plain' } });
        expect(put.status).toBe(201);

        // A firmware image.
        const image = randomBytes(4096);
        const manifest = {
          name: 'pos-os',
          version: '9.9.9',
          models: ['PAX-A920'],
          size: image.length,
          sha256: createHash('sha256').update(image).digest('hex'),
        };
        const fw = await api<{ id: string }>('POST', '/v1/firmware', {
          manifest,
          signature: signManifest(manifest, publisher.privateKeyPem),
        });
        expect(fw.status).toBe(201);
        const content = await api<{ state: string }>('PUT', `/v1/firmware/${fw.body.id}/content`, undefined, {
          raw: image,
          headers: { 'content-type': 'application/octet-stream' },
        });
        expect(content.body.state).toBe('ready');

        server.kill('SIGTERM');
        expect(await exited(server)).toBe(0);

        const paths = everyPath(dataDir);
        const names = paths.map((p) => relative(dataDir, p));
        expect(names).toEqual(
          expect.arrayContaining([
            'pepper.key',
            'binding.key',
            `logs/${bundle.body.id}.log`,
            `firmware/${manifest.sha256.slice(0, 2)}/${manifest.sha256}`,
          ]),
        );
        expect(names.includes('db')).toBe(database === 'pglite');
        expect(modeOf(dataDir).toString(8)).toBe('700');
        const own = paths.filter((p) => !relative(dataDir, p).startsWith('db/'));
        expect(own.filter((p) => (modeOf(p) & 0o077) !== 0).map((p) => `${relative(dataDir, p)} ${modeOf(p).toString(8)}`)).toEqual([]);
        for (const p of own) expect(modeOf(p).toString(8), relative(dataDir, p)).toBe(lstatSync(p).isDirectory() ? '700' : '600');

        if (database !== 'pglite') return;
        // PGlite's own files keep the umask's modes; no other user can read them all the same.
        const pgliteFiles = paths.filter((p) => relative(dataDir, p).startsWith('db/') && lstatSync(p).isFile());
        expect(pgliteFiles.length).toBeGreaterThan(100);
        const wide = pgliteFiles.find((p) => (modeOf(p) & 0o004) !== 0);
        expect(wide, 'under umask 000 PGlite writes world-readable files').toBeDefined();
        expect(readableByNobody(wide!)).toBe(false);
        // The check itself can see a readable file: the same file copied out of DATA_DIR is readable.
        const openDir = mkdtempSync(join(tmpdir(), 'posfleet-open-'));
        try {
          chmodSync(openDir, 0o755);
          const outside = join(openDir, 'copy');
          spawnSync('cp', ['-p', wide!, outside]);
          expect(readableByNobody(outside)).toBe(true);
        } finally {
          rmSync(openDir, { recursive: true, force: true });
        }
      },
    );

  it('a redis-server child keeps its data in an owner-only directory', { timeout: 60_000 }, async () => {
    const dataDir = join(root, 'redis-data');
    const script = [
      "import { startRedisChild } from './server/jobs/redisResolver.ts';",
      "import { createLogger } from './server/log.ts';",
      "const r = await startRedisChild(process.env.DATA_DIR, createLogger('silent'));",
      'await r.stop();',
    ].join(' ');
    const child = underUmask000([process.execPath, '--import', 'tsx', '--input-type=module', '-e', script], {
      ...process.env,
      DATA_DIR: dataDir,
    });
    children.add(child);
    let err = '';
    child.stderr!.on('data', (b: Buffer) => (err += b.toString()));
    expect(await exited(child), err).toBe(0);
    expect(modeOf(dataDir).toString(8)).toBe('700');
    expect(modeOf(join(dataDir, 'redis')).toString(8)).toBe('700');
    const inside = everyPath(join(dataDir, 'redis')).filter((p) => lstatSync(p).isFile());
    expect(inside.length).toBeGreaterThan(0);
    for (const p of inside) expect(readableByNobody(p), relative(dataDir, p)).toBe(false);
  });
});
