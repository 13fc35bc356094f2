// A firmware rollout driven from the CLI alone, against a real server and real agents: the image
// signed (`firmware sign`, the publisher's code in scripts/) and uploaded (`firmware upload`),
// the rollout created from a spec file, started, and watched to `succeeded` (exit 0, one line per
// change in a pipe); a cancelled one's watch exits 1; the API's refusal is its code, exit 3; an
// unreadable spec file is exit 2.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FleetHandle } from '../../scripts/simulate/fleet.ts';
import { publisher, startOtaFleet, startOtaServer } from '../campaigns/otaHarness.ts';
import { type DatabaseKind } from '../helpers/databases.ts';
import { eventually } from '../helpers/eventually.ts';
import { TEST_ADMIN_TOKEN, type TestServer } from '../helpers/testServer.ts';
import { repoRoot, runCli, runProgram, scratchHome } from './runCli.ts';

// PGlite only: the CLI is a client of the HTTP API, and the engines' storage is proven alike by
// test/db and the domain suites (onDefaultServer in test/helpers/testServer.ts says why).
for (const kind of ['pglite'] satisfies DatabaseKind[]) {
  describe(`operator CLI: firmware and rollouts [${kind}]`, () => {
    let t: TestServer | undefined;
    let fleet: FleetHandle | undefined;
    let dir = '';
    let env: Record<string, string> = {};
    beforeAll(async () => {
      t = await startOtaServer({ database: kind });
      // One terminal of four corrupts its downloads: the failing rollout's member.
      fleet = await startOtaFleet(t, 4, { 'ota-corrupt': 0.25 });
      dir = mkdtempSync(join(tmpdir(), 'posfleet-cli-ota-'));
      env = { HOME: scratchHome(), POSFLEET_URL: t.url, POSFLEET_TOKEN: TEST_ADMIN_TOKEN };
    }, 120_000);
    afterAll(async () => {
      await fleet?.stop();
      await t?.stop();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    let firmwareId = '';
    const healthy = () => fleet!.agents.filter((a) => !a.faults.includes('ota-corrupt'));
    const corrupt = () => fleet!.agents.find((a) => a.faults.includes('ota-corrupt'))!;

    it('firmware sign writes a manifest the server verifies; upload registers it and streams the image', async () => {
      const key = join(dir, 'publisher.key');
      writeFileSync(key, publisher.privateKeyPem, { mode: 0o600 });
      const image = join(dir, 'pos-os-2.0.0.bin');
      writeFileSync(image, randomBytes(48 * 1024 + 7));
      const manifestFile = join(dir, 'pos-os-2.0.0.json');
      const signed = await runCli(
        [
          'firmware',
          'sign',
          '--key',
          key,
          '--image',
          image,
          '--name',
          'pos-os',
          '--version',
          '2.0.0',
          '--models',
          'PAX-A920',
          '-o',
          manifestFile,
        ],
        { env },
      );
      expect(signed.stderr).toContain('signed manifest written to');
      expect(signed.code).toBe(0);
      const body: { manifest: { size: number; sha256: string } } = JSON.parse(readFileSync(manifestFile, 'utf8'));
      expect(body.manifest.size).toBe(48 * 1024 + 7);

      const up = await runCli(['firmware', 'upload', '--manifest', manifestFile, '--image', image, '--json'], { env });
      expect(up.stderr).toBe('');
      expect(up.code).toBe(0);
      const fw: { id: string; state: string; sha256: string; size: number } = JSON.parse(up.stdout);
      expect(fw).toMatchObject({ state: 'ready', sha256: body.manifest.sha256, size: body.manifest.size });
      firmwareId = fw.id;

      const tampered = join(dir, 'tampered.json');
      writeFileSync(
        tampered,
        JSON.stringify({ ...JSON.parse(readFileSync(manifestFile, 'utf8')), manifest: { ...body.manifest, name: 'evil-os' } }),
      );
      const refused = await runCli(['firmware', 'upload', '--manifest', tampered, '--image', image], { env });
      expect(refused.code).toBe(3);
      expect(refused.stderr).toMatch(/^error: bad_signature \(422\): /);
    });

    it('rollouts create -f, start and watch to succeeded: exit 0, one line per change', async () => {
      expect(firmwareId).not.toBe('');
      const ids = healthy().map((a) => a.deviceId!);
      expect(ids).toHaveLength(3);
      const spec = join(dir, 'rollout.json');
      writeFileSync(
        spec,
        JSON.stringify({
          name: 'v2 via the CLI',
          firmwareId,
          target: { deviceIds: ids },
          phases: [
            { name: 'canary', percent: 34 },
            { name: 'rest', percent: 66 },
          ],
          successThreshold: 100,
          errorThreshold: 0,
        }),
      );
      const created = await runCli(['rollouts', 'create', '-f', spec, '--json'], { env });
      expect(created.code).toBe(0);
      const rollout: { id: string; state: string } = JSON.parse(created.stdout);
      expect(rollout.state).toBe('draft');

      const started = await runCli(['rollouts', 'start', rollout.id], { env });
      expect(started.code).toBe(0);
      expect(started.stdout.trim()).toBe(`rollout ${rollout.id}: running`);

      const watched = await runCli(['rollouts', 'watch', rollout.id, '--interval', '200'], { env, timeoutMs: 90_000 });
      expect(watched.stderr).toBe('');
      expect(watched.code).toBe(0);
      const lines = watched.stdout.trim().split('\n');
      // Not a TTY: timestamped lines, each different from the one before, no bar redraws.
      expect(watched.stdout).not.toContain('\r');
      for (const l of lines.slice(0, -1)) expect(l).toMatch(/^\d{4}-\d\d-\d\dT\S+Z (running|succeeded)/);
      expect(new Set(lines).size).toBe(lines.length);
      expect(lines.at(-2)).toMatch(/succeeded phase 2\/2 \(rest\): 3\/3 final, 3 succeeded, 0 failed$/);
      expect(lines.at(-1)).toBe(`rollout ${rollout.id} succeeded: 3/3 succeeded, 0 failed`);

      const members = await runCli(['rollouts', 'devices', rollout.id, '--json'], { env });
      const page: { items: { deviceId: string; state: string; reportedVersion: string | null }[] } = JSON.parse(members.stdout);
      expect(page.items.map((m) => m.deviceId).sort()).toEqual([...ids].sort());
      expect(page.items.every((m) => m.state === 'succeeded' && m.reportedVersion === '2.0.0')).toBe(true);
      const failed = await runCli(['rollouts', 'devices', rollout.id, '--state', 'failed'], { env });
      expect(failed.code).toBe(0);
      expect(failed.stderr.trim()).toBe('(none)');

      const table = await runCli(['rollouts', 'list'], { env });
      expect(table.stdout).toMatch(new RegExp(`^${rollout.id}\\s+v2 via the CLI\\s+succeeded\\s`, 'm'));

      // On a terminal (util-linux `script` gives the CLI a pseudo-terminal) the watch draws a bar in place.
      const cli = `${process.execPath} --import tsx ${join(repoRoot, 'cli/posfleet.ts')} rollouts watch ${rollout.id}`;
      const tty = await runProgram('script', ['-qec', cli, '/dev/null'], env);
      expect(tty.code).toBe(0);
      expect(tty.stdout).toMatch(/\r\[#{30}\] 100% succeeded phase 2\/2 \(rest\): 3\/3 final, 3 succeeded, 0 failed/);
      expect(tty.stdout).toContain(`rollout ${rollout.id} succeeded: 3/3 succeeded, 0 failed`);
    });

    it('a rollout that fails: watch exits 1, failures counts it by error.code, devices --error-code names the terminal', async () => {
      const bad = corrupt();
      const spec = join(dir, 'failing.json');
      writeFileSync(
        spec,
        JSON.stringify({
          name: 'fails',
          firmwareId,
          target: { deviceIds: [bad.deviceId!] },
          phases: [{ name: 'all', percent: 100 }],
          successThreshold: 100,
          errorThreshold: 100,
          retries: 0,
        }),
      );
      const { id }: { id: string } = JSON.parse((await runCli(['rollouts', 'create', '-f', spec, '--json'], { env })).stdout);
      expect((await runCli(['rollouts', 'start', id], { env })).code).toBe(0);
      const watched = await runCli(['rollouts', 'watch', id, '--interval', '200'], { env, timeoutMs: 90_000 });
      expect(watched.code).toBe(1);
      expect(watched.stderr.trim()).toBe(`rollout ${id} failed: 0/1 succeeded, 1 failed`);
      const failures = await runCli(['rollouts', 'failures', id, '--json'], { env });
      const f: { total: number; byCode: { code: string; count: number; message: string }[] } = JSON.parse(failures.stdout);
      expect(f.total).toBe(1);
      expect(f.byCode).toHaveLength(1);
      const code = f.byCode[0]!.code;
      const table = await runCli(['rollouts', 'failures', id], { env });
      expect(table.stdout).toMatch(new RegExp(`^${code}\\s+1\\s+\\S`, 'm'));
      const members = await runCli(['rollouts', 'devices', id, '--error-code', code], { env });
      expect(members.code).toBe(0);
      expect(members.stdout).toMatch(new RegExp(`^${bad.deviceId}\\s+${bad.serial}\\s+1\\s+failed\\s+\\d+\\s+${code}: `, 'm'));
    });

    it('watching a cancelled rollout exits 1; starting it again is the API refusal, exit 3', async () => {
      const spec = join(dir, 'cancel.json');
      writeFileSync(
        spec,
        JSON.stringify({
          name: 'cancelled',
          firmwareId,
          target: { deviceIds: [healthy()[0]!.deviceId!] },
          phases: [{ name: 'all', percent: 100 }],
          successThreshold: 100,
          errorThreshold: 0,
        }),
      );
      const created = await runCli(['rollouts', 'create', '-f', spec, '--json'], { env });
      const { id }: { id: string } = JSON.parse(created.stdout);
      expect((await runCli(['rollouts', 'cancel', id], { env })).stdout.trim()).toBe(`rollout ${id}: cancelled`);
      const watched = await runCli(['rollouts', 'watch', id], { env });
      expect(watched.code).toBe(1);
      expect(watched.stderr.trim()).toBe(`rollout ${id} cancelled: 0/0 succeeded, 0 failed`);
      const again = await runCli(['rollouts', 'start', id], { env });
      expect(again.code).toBe(3);
      expect(again.stderr).toMatch(/^error: [a-z_]+ \(409\): .+/);
      const missing = await runCli(['rollouts', 'create', '-f', join(dir, 'nope.json')], { env });
      expect(missing.code).toBe(2);
      expect(missing.stderr).toMatch(/^error: ENOENT: .*nope\.json/);
    });

    it("faults list, ack and resolve a real terminal's tamper fault", async () => {
      const agent = healthy()[2]!;
      agent.hardware.inject('tamper');
      const listed = await eventually(
        async () => {
          const r = await runCli(['faults', 'list', '--device', agent.deviceId!, '--code', 'tamper', '--json'], { env });
          const page: { items: { id: string; state: string; code: string }[] } = JSON.parse(r.stdout);
          return page.items[0];
        },
        { timeoutMs: 30_000, what: 'the tamper fault listed' },
      );
      expect(listed.state).toBe('open');
      const table = await runCli(['faults', 'list', '--device', agent.deviceId!], { env });
      expect(table.stdout).toMatch(new RegExp(`^${listed.id}\\s+\\S+\\s+open\\s+tamper\\s+${agent.deviceId}\\s`, 'm'));
      const ack = await runCli(['faults', 'ack', listed.id], { env });
      expect(ack.stdout.trim()).toBe(`fault ${listed.id} (tamper on ${agent.deviceId}): acknowledged`);
      const twice = await runCli(['faults', 'ack', listed.id], { env });
      expect(twice.code).toBe(3);
      expect(twice.stderr).toMatch(/^error: already_acknowledged \(409\): /);
      const resolved = await runCli(['faults', 'resolve', listed.id, '--note', 'case reseated', '--json'], { env });
      expect(resolved.code).toBe(0);
      expect(JSON.parse(resolved.stdout)).toMatchObject({ id: listed.id, state: 'resolved' });
      const after = await t!.api<{ notes: { text: string }[] }>('GET', `/v1/faults/${listed.id}`);
      expect(after.body.notes.map((n) => n.text)).toContain('case reseated');
    });
  });
}
