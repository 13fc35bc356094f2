// Key rotations and dual-control approvals driven from the CLI, against a real server and real
// agents: a TPK+TAK rotation created from a spec file, started and watched to `succeeded` (exit 0),
// the terminals' inventories then holding the new keys; a master-key replacement asked through the
// API is refused to its requester (`dual_control`, exit 3) and approved by a second admin from the
// CLI. PGlite only, as every CLI suite: the CLI is a client of the HTTP API.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FleetHandle } from '../../scripts/simulate/fleet.ts';
import { keyInventory } from '../../server/keys/keyRoutes.ts';
import { startTestFleet } from '../helpers/fleet.ts';
import { startTestServer, TEST_ADMIN_TOKEN, type TestServer } from '../helpers/testServer.ts';
import { runCli, scratchHome } from './runCli.ts';

describe('operator CLI: key rotations and approvals', () => {
  let t: TestServer | undefined;
  let fleet: FleetHandle | undefined;
  let stateDir = '';
  let dir = '';
  let env: Record<string, string> = {};
  beforeAll(async () => {
    t = await startTestServer();
    ({ fleet, stateDir } = await startTestFleet(t, { devices: 3, prefix: 'CLIK' }));
    dir = mkdtempSync(join(tmpdir(), 'posfleet-cli-keys-'));
    env = { HOME: scratchHome(), POSFLEET_URL: t.url, POSFLEET_TOKEN: TEST_ADMIN_TOKEN };
  }, 120_000);
  afterAll(async () => {
    await fleet?.stop();
    await t?.stop();
    for (const d of [dir, stateDir]) if (d) rmSync(d, { recursive: true, force: true });
  });

  it('creates a rotation from a spec file, starts it and watches it to succeeded; the inventories hold the new keys', async () => {
    const ids = fleet!.agents.map((a) => a.deviceId!);
    const inventory = async (id: string) => keyInventory.parse((await t!.api('GET', `/v1/devices/${id}/keys`)).body).slots;
    const before = new Map(await Promise.all(ids.map(async (id) => [id, (await inventory(id)).map((k) => k.kcv)] as const)));
    const spec = join(dir, 'rotation.json');
    writeFileSync(
      spec,
      JSON.stringify({
        name: 'TPK+TAK from the CLI',
        usages: ['TPK', 'TAK'],
        target: { deviceIds: ids },
        phases: [{ name: 'all', percent: 100 }],
        successThreshold: 100,
        errorThreshold: 0,
      }),
    );
    const created = await runCli(['keys', 'rotations', 'create', '-f', spec, '--json'], { env });
    expect(created.code, created.stderr).toBe(0);
    const rotation: { id: string; state: string } = JSON.parse(created.stdout);
    expect(rotation.state).toBe('draft');
    const started = await runCli(['keys', 'rotations', 'start', rotation.id], { env });
    expect(started.code, started.stderr).toBe(0);
    const watched = await runCli(['keys', 'rotations', 'watch', rotation.id, '--interval', '200'], { env });
    expect(watched.code, watched.stderr).toBe(0);
    expect(watched.stdout.trim().split('\n').at(-1)).toBe(`key rotation ${rotation.id} succeeded: 3/3 succeeded, 0 failed`);
    for (const id of ids) {
      const after = await inventory(id);
      for (const usage of ['TPK', 'TAK']) {
        const key = after.find((k) => k.usage === usage);
        expect(key, `${id} ${usage}`).toBeDefined();
        expect(before.get(id)).not.toContain(key!.kcv);
      }
    }
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ name: 'no usages', target: { deviceIds: ids }, phases: [{ name: 'all', percent: 100 }] }));
    const refused = await runCli(['keys', 'rotations', 'create', '-f', bad], { env });
    expect(refused.code).toBe(3);
    expect(refused.stderr).toMatch(/^error: validation_failed \(400\): /);
  }, 90_000);

  it('approves a dual-control request from the CLI as the second admin; its requester is refused with dual_control', async () => {
    const second = await t!.api<{ token: string }>('POST', '/v1/users', { name: 'second custodian', role: 'admin' });
    expect(second.status, second.text).toBe(201);
    const asked = await t!.api<{ id: string }>('POST', '/v1/key-vault/requests', {
      action: 'master_key.replace',
      reason: 'yearly ceremony',
    });
    expect(asked.status, asked.text).toBe(201);
    const listed = await runCli(['keys', 'approvals', 'list', '--json'], { env });
    expect(JSON.parse(listed.stdout).items.map((r: { id: string }) => r.id)).toContain(asked.body.id);
    const own = await runCli(['keys', 'approvals', 'approve', asked.body.id], { env });
    expect(own.code).toBe(3);
    expect(own.stderr).toMatch(/^error: dual_control \(403\): /);
    const approved = await runCli(['keys', 'approvals', 'approve', asked.body.id, '--json'], {
      env: { ...env, POSFLEET_TOKEN: second.body.token },
    });
    expect(approved.code, approved.stderr).toBe(0);
    expect(JSON.parse(approved.stdout)).toMatchObject({ id: asked.body.id });
  });
});
