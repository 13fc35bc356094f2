// Payment apps from the CLI alone, against a real server and real agents (PGlite): a package
// signed offline (`apps sign`, the firmware signer via scripts/sign-app.ts), uploaded (`apps
// upload`), listed, deployed from flags with --start to two terminals and watched to `succeeded`,
// the terminals then reporting it; a deployment from a spec file stays a draft; the API's refusals
// are its code (exit 3), a wrong command line is exit 2. The flags → body mapping is also checked alone.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deploymentBodyOf } from '../../cli/commands/appDeploy.ts';
import { UsageError } from '../../cli/errors.ts';
import { appServerEnv, inventoriesBecome, MIN_FIRMWARE, MODEL, packages, publisher } from '../apps/helpers.ts';
import { startTestFleet, type TestFleet } from '../helpers/fleet.ts';
import { TEST_ADMIN_TOKEN, onDefaultServer } from '../helpers/testServer.ts';
import { runCli, scratchHome } from './runCli.ts';

const PKG = 'com.acme.cliapp';
const factoryApp = { packageName: 'com.posfleet.pay', version: '1.0.0' };

describe('apps deploy: the body its flags describe', () => {
  it('fills one phase and the thresholds when not given, and takes exactly one target', () => {
    expect(deploymentBodyOf({ action: 'install', app: 'app_1', devices: 'dev_a, dev_b' })).toEqual({
      name: 'install app_1',
      action: 'install',
      appId: 'app_1',
      target: { deviceIds: ['dev_a', 'dev_b'] },
      phases: [{ name: 'all', percent: 100 }],
      successThreshold: 95,
      errorThreshold: 5,
    });
    expect(
      deploymentBodyOf({
        action: 'uninstall',
        package: PKG,
        query: 'app.com.acme.cliapp exists',
        phases: 'canary:5,rest:95',
        'success-threshold': '90',
        'error-threshold': '1.5',
        dynamic: true,
        name: 'remove it',
      }),
    ).toEqual({
      name: 'remove it',
      action: 'uninstall',
      packageName: PKG,
      target: { query: 'app.com.acme.cliapp exists' },
      phases: [
        { name: 'canary', percent: 5 },
        { name: 'rest', percent: 95 },
      ],
      successThreshold: 90,
      errorThreshold: 1.5,
      dynamic: true,
    });
    expect(deploymentBodyOf({ action: 'update', app: 'app_1', group: 'grp_1' }).target).toEqual({ groupId: 'grp_1' });
    expect(deploymentBodyOf({ action: 'update', app: 'app_1', 'filter-id': 'flt_1' }).target).toEqual({ filterId: 'flt_1' });
  });

  it('refuses a command line that names no action, no package, no target or two, or bad numbers', () => {
    const refusal = (f: Parameters<typeof deploymentBodyOf>[0]) => {
      try {
        deploymentBodyOf(f);
      } catch (err) {
        if (err instanceof UsageError) return err.message;
        throw err;
      }
      throw new Error('accepted');
    };
    expect(refusal({ action: 'reinstall', app: 'a', devices: 'd' })).toContain('--action is one of install, update, uninstall');
    expect(refusal({ action: 'install', devices: 'd' })).toContain('--app ID');
    expect(refusal({ action: 'install', app: 'a' })).toContain('one of --devices');
    expect(refusal({ action: 'install', app: 'a', devices: 'd', group: 'g' })).toContain('one of --devices');
    expect(refusal({ action: 'install', app: 'a', devices: 'd', phases: 'canary5' })).toContain('NAME:PERCENT');
    expect(refusal({ action: 'install', app: 'a', devices: 'd', 'error-threshold': 'lots' })).toContain(
      '--error-threshold takes a percent',
    );
  });
});

onDefaultServer(
  'operator CLI: payment apps',
  (server) => {
    let fleet: TestFleet | undefined;
    let dir = '';
    let env: Record<string, string> = {};
    let appId = '';
    let ids: string[] = [];
    beforeAll(async () => {
      const t = server();
      fleet = await startTestFleet(t, {
        devices: 2,
        prefix: `CLIAPP${randomBytes(3).toString('hex')}`,
        model: MODEL,
        fwVersion: MIN_FIRMWARE,
        healthIntervalS: 30,
      });
      ids = fleet.fleet.agents.map((a) => a.deviceId!);
      dir = mkdtempSync(join(tmpdir(), 'posfleet-cli-apps-'));
      env = { HOME: scratchHome(), POSFLEET_URL: t.url, POSFLEET_TOKEN: TEST_ADMIN_TOKEN };
    }, 60_000);
    afterAll(async () => {
      await fleet?.fleet.stop();
      if (fleet) rmSync(fleet.stateDir, { recursive: true, force: true });
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it('apps sign writes a manifest the server verifies; upload registers it and streams the image; list shows it', async () => {
      const key = join(dir, 'publisher.key');
      writeFileSync(key, publisher.privateKeyPem, { mode: 0o600 });
      const image = join(dir, 'cliapp-2.1.0.pkg');
      const content = randomBytes(20 * 1024 + 3);
      writeFileSync(image, content);
      const manifestFile = join(dir, 'cliapp-2.1.0.json');
      const signArgs = [
        'apps',
        'sign',
        '--key',
        key,
        '--image',
        image,
        '--package',
        PKG,
        '--version',
        '2.1.0',
        '--models',
        `${MODEL}, VX-990`,
      ];
      const signed = await runCli([...signArgs, '--min-firmware', MIN_FIRMWARE, '-o', manifestFile], { env });
      expect(signed.stderr).toContain(`signed manifest written to ${manifestFile}`);
      expect(signed.code).toBe(0);
      const body: { manifest: Record<string, unknown>; signature: string } = JSON.parse(readFileSync(manifestFile, 'utf8'));
      expect(body.manifest).toEqual({
        packageName: PKG,
        version: '2.1.0',
        models: [MODEL, 'VX-990'],
        minFirmware: MIN_FIRMWARE,
        size: content.length,
        sha256: createHash('sha256').update(content).digest('hex'),
      });
      // Ed25519 is deterministic: to stdout without -o, the same document.
      const toStdout = await runCli([...signArgs, '--min-firmware', MIN_FIRMWARE], { env });
      expect(JSON.parse(toStdout.stdout)).toEqual(body);
      const badVersion = await runCli([...signArgs.slice(0, -4), '--version', '2.1', '--models', MODEL, '--min-firmware', MIN_FIRMWARE], {
        env,
      });
      expect(badVersion.code).toBe(2);
      expect(badVersion.stderr).toMatch(/^usage: version: must be a semantic version/);

      const up = await runCli(['apps', 'upload', '--manifest', manifestFile, '--image', image, '--json'], { env });
      expect(up.stderr).toBe('');
      expect(up.code).toBe(0);
      const app: { id: string; state: string; sha256: string; size: number; packageName: string } = JSON.parse(up.stdout);
      expect(app).toMatchObject({ state: 'ready', packageName: PKG, sha256: body.manifest.sha256, size: content.length });
      appId = app.id;
      const again = await runCli(['apps', 'upload', '--manifest', manifestFile, '--image', image], { env });
      expect(again.code).toBe(0);
      expect(again.stdout.trim()).toBe(`app ${appId} ${PKG} 2.1.0: ready`);

      const tampered = join(dir, 'tampered.json');
      writeFileSync(tampered, JSON.stringify({ ...body, manifest: { ...body.manifest, models: ['VX-990'] } }));
      const refused = await runCli(['apps', 'upload', '--manifest', tampered, '--image', image], { env });
      expect(refused.code).toBe(3);
      expect(refused.stderr).toMatch(/^error: bad_signature \(422\): /);
      const short = join(dir, 'short.pkg');
      writeFileSync(short, content.subarray(1));
      const wrongImage = await runCli(['apps', 'upload', '--manifest', manifestFile, '--image', short], { env });
      expect(wrongImage.code).toBe(2);
      expect(wrongImage.stderr).toContain('not the image that was signed');

      const listed = await runCli(['apps', 'list', '--json'], { env });
      expect(listed.code).toBe(0);
      const got: {
        items: { packageName: string; versions: { version: string; id: string | null; state: string | null; installs: number }[] }[];
      } = JSON.parse(listed.stdout);
      expect(got.items.find((p) => p.packageName === PKG)?.versions).toEqual([
        expect.objectContaining({ version: '2.1.0', id: appId, state: 'ready', installs: 0 }),
      ]);
      const table = await runCli(['apps', 'list'], { env });
      expect(table.stdout).toMatch(/^PACKAGE\s+VERSION\s+ID\s+STATE\s+INSTALLS\s+MODELS\s+MIN FIRMWARE$/m);
      expect(table.stdout).toMatch(
        new RegExp(`^${PKG.replace(/\./g, '\\.')}\\s+2\\.1\\.0\\s+${appId}\\s+ready\\s+0\\s+${MODEL},VX-990\\s+${MIN_FIRMWARE}$`, 'm'),
      );
      const one = await runCli(['apps', 'get', appId, '--json'], { env });
      expect(JSON.parse(one.stdout)).toMatchObject({ id: appId, packageName: PKG, version: '2.1.0', state: 'ready' });
    });

    it('apps deploy from flags with --start installs on real terminals, watched to succeeded', async () => {
      expect(appId).not.toBe('');
      const deployed = await runCli(
        [
          'apps',
          'deploy',
          '--action',
          'install',
          '--app',
          appId,
          '--devices',
          ids.join(','),
          '--success-threshold',
          '100',
          '--error-threshold',
          '0',
          '--start',
          '--json',
        ],
        { env },
      );
      expect(deployed.stderr).toBe('');
      expect(deployed.code).toBe(0);
      const d: {
        id: string;
        state: string;
        action: string;
        appId: string;
        name: string;
        target: unknown;
        phases: { name: string; percent: number }[];
      } = JSON.parse(deployed.stdout);
      expect(d).toMatchObject({ state: 'running', action: 'install', appId, name: `install ${appId}`, target: { deviceIds: ids } });
      expect(d.phases.map((p) => [p.name, p.percent])).toEqual([['all', 100]]);

      const watched = await runCli(['apps', 'deployments', 'watch', d.id, '--interval', '200'], { env, timeoutMs: 60_000 });
      expect(watched.stderr).toBe('');
      expect(watched.code).toBe(0);
      expect(watched.stdout.trim().split('\n').at(-1)).toBe(`app deployment ${d.id} succeeded: 2/2 succeeded, 0 failed`);
      await inventoriesBecome(
        server(),
        ids,
        [{ packageName: PKG, version: '2.1.0' }, factoryApp].sort((a, b) => a.packageName.localeCompare(b.packageName)),
      );
      expect((await packages(server())).get(PKG)?.versions).toEqual([expect.objectContaining({ version: '2.1.0', installs: 2 })]);
    }, 90_000);

    it('apps deploy -f makes a draft without --start; refusals are the API code or a usage error', async () => {
      const spec = join(dir, 'uninstall.json');
      writeFileSync(
        spec,
        JSON.stringify({
          name: 'remove via the CLI',
          action: 'uninstall',
          packageName: PKG,
          target: { deviceIds: [ids[0]] },
          phases: [{ name: 'all', percent: 100 }],
          successThreshold: 100,
          errorThreshold: 0,
        }),
      );
      const drafted = await runCli(['apps', 'deploy', '-f', spec], { env });
      expect(drafted.stderr).toBe('');
      expect(drafted.code).toBe(0);
      const id = /^app deployment (cmp_\S+) created \(draft\); start it with: posfleet apps deployments start (cmp_\S+)$/.exec(
        drafted.stdout.trim(),
      );
      expect(id?.[2]).toBe(id?.[1]);
      const got = await runCli(['apps', 'deployments', 'get', id![1]!, '--json'], { env });
      expect(JSON.parse(got.stdout)).toMatchObject({ id: id![1], state: 'draft', action: 'uninstall', packageName: PKG });

      const unknown = await runCli(['apps', 'deploy', '--action', 'install', '--app', 'app_doesnotexist00', '--devices', ids[0]!], { env });
      expect(unknown.code).toBe(3);
      expect(unknown.stderr).toMatch(/^error: unknown_app \(422\): /);
      const invalid = await runCli(
        ['apps', 'deploy', '--action', 'install', '--app', appId, '--devices', ids[0]!, '--error-threshold', '150'],
        { env },
      );
      expect(invalid.code).toBe(3);
      expect(invalid.stderr).toMatch(/^error: validation_failed \(400\): /);
      const both = await runCli(['apps', 'deploy', '-f', spec, '--action', 'install'], { env });
      expect(both.code).toBe(2);
      expect(both.stderr).toContain('-f takes the whole body');
      const noTarget = await runCli(['apps', 'deploy', '--action', 'install', '--app', appId], { env });
      expect(noTarget.code).toBe(2);
      expect(noTarget.stderr).toContain('one of --devices');
    });
  },
  { env: appServerEnv },
);
