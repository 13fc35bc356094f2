// Parameter templates and assignments from the CLI against a real server, on each engine: a
// template created from a file (and its next version under the same name), a bad file refused
// before sending (exit 2, the path named), values assigned to a model and to a terminal, listed,
// the terminal's desired parameters (GET /v1/devices/{id}/parameters) taking them with their tier,
// and the assignment removed (removing it again is the API's not_found, exit 3).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { z } from 'zod';
import { assignmentAnswer, assignmentView, deviceParametersView, parameterTemplateView } from '../../server/parameters/parameterSchemas.ts';
import { onDefaultServer, TEST_ADMIN_TOKEN } from '../helpers/testServer.ts';
import { runCli, scratchHome } from './runCli.ts';

const MODEL = 'PAX-CLITPL';
const template = {
  name: 'cli-acquirer',
  description: 'card acceptance',
  appliesTo: { model: MODEL },
  fields: [
    { key: 'currency', type: 'enum', values: ['EUR', 'USD'], required: true, default: 'EUR' },
    { key: 'timeoutS', type: 'integer', min: 5, max: 120, default: 30 },
    { key: 'tips', type: 'boolean', default: false },
  ],
};

onDefaultServer('operator CLI: parameter templates and assignments', (server) => {
  let dir = '';
  let env: Record<string, string> = {};
  const file = (name: string, body: unknown) => {
    const path = join(dir, name);
    writeFileSync(path, typeof body === 'string' ? body : JSON.stringify(body));
    return path;
  };
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'posfleet-cli-params-'));
    env = { HOME: scratchHome(), POSFLEET_URL: server().url, POSFLEET_TOKEN: TEST_ADMIN_TOKEN };
  });
  afterAll(() => dir && rmSync(dir, { recursive: true, force: true }));

  it('creates a template from a file, and its next version; a bad file is exit 2 with the reason and nothing is stored', async () => {
    const created = await runCli(['params', 'templates', 'create', '-f', file('t.json', template), '--json'], { env });
    expect(created.code, created.stderr).toBe(0);
    const v1 = parameterTemplateView.parse(JSON.parse(created.stdout));
    expect(v1).toMatchObject({ name: template.name, version: 1, appliesTo: { model: MODEL } });
    const stored = await server().api('GET', `/v1/parameter-templates/${v1.id}`);
    expect(parameterTemplateView.parse(stored.body).fields.map((f) => f.key)).toEqual(['currency', 'timeoutS', 'tips']);

    const next = await runCli(['params', 'templates', 'create', '-f', file('t2.json', { ...template, description: 'v2' })], { env });
    expect(next.code, next.stderr).toBe(0);
    expect(next.stdout).toMatch(new RegExp(`^template ptpl_\\S+: ${template.name} v2, 3 fields`));

    const bad = { ...template, fields: [{ key: 'timeoutS', type: 'integer', min: 5, max: 120, default: 500 }] };
    const refused = await runCli(['params', 'templates', 'create', '-f', file('bad.json', bad)], { env });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('fields.0.default: the default must be at most 120');
    const notJson = await runCli(['params', 'templates', 'create', '-f', file('broken.json', '{')], { env });
    expect(notJson.code).toBe(2);
    expect(notJson.stderr).toContain('is not JSON');
    const versions = await server().api('GET', `/v1/parameter-templates?name=${template.name}`);
    expect(
      z
        .object({ items: z.array(parameterTemplateView) })
        .parse(versions.body)
        .items.map((t) => t.version)
        .sort(),
    ).toEqual([1, 2]);
  });

  it('sets values for a model and a terminal, lists them, the desired parameters take them, and deletes one', async () => {
    const t = server();
    const made = await runCli(['params', 'templates', 'create', '-f', file('a.json', { ...template, name: 'cli-assign' }), '--json'], {
      env,
    });
    expect(made.code, made.stderr).toBe(0);
    const tpl = parameterTemplateView.parse(JSON.parse(made.stdout));
    const device = await t.api<{ id: string }>('POST', '/v1/devices', { serial: `CLITPL-${Date.now().toString(36)}`, model: MODEL });
    expect(device.status, device.text).toBe(201);
    const deviceId = device.body.id;

    const byFlags = await runCli(
      ['params', 'assignments', 'set', tpl.id, '--tier', 'model', '--target', MODEL, '--values', '{"timeoutS":45,"tips":true}', '--json'],
      { env },
    );
    expect(byFlags.code, byFlags.stderr).toBe(0);
    expect(assignmentAnswer.parse(JSON.parse(byFlags.stdout))).toEqual({
      tier: 'model',
      targetId: MODEL,
      values: { timeoutS: 45, tips: true },
      removed: false,
    });
    const byFile = await runCli(
      ['params', 'assignments', 'set', tpl.id, '-f', file('as.json', { tier: 'terminal', targetId: deviceId, values: { timeoutS: 60 } })],
      { env },
    );
    expect(byFile.code, byFile.stderr).toBe(0);
    expect(byFile.stdout).toContain(`terminal ${deviceId}: timeoutS=60 set for cli-assign v1`);

    const outOfBounds = await runCli(
      ['params', 'assignments', 'set', tpl.id, '--tier', 'model', '--target', MODEL, '--values', '{"timeoutS":500}'],
      {
        env,
      },
    );
    expect(outOfBounds.code).toBe(2);
    expect(outOfBounds.stderr).toContain('values.timeoutS: must be at most 120');

    const listed = await runCli(['params', 'assignments', 'list', tpl.id], { env });
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toMatch(new RegExp(`model\\s+${MODEL}\\s+timeoutS=45 tips=true\n`));
    expect(listed.stdout).toMatch(new RegExp(`terminal\\s+${deviceId}\\s+timeoutS=60\n`));
    const listedJson = await runCli(['params', 'assignments', 'list', tpl.id, '--json'], { env });
    expect(z.array(assignmentView).parse(JSON.parse(listedJson.stdout))).toHaveLength(2);

    const desired = async () =>
      deviceParametersView.parse((await t.api('GET', `/v1/devices/${deviceId}/parameters?templateId=${tpl.id}`)).body).desired;
    expect(await desired()).toMatchObject({
      values: { currency: 'EUR', timeoutS: 60, tips: true },
      sourceOf: { currency: { tier: 'default' }, timeoutS: { tier: 'terminal', id: deviceId }, tips: { tier: 'model', id: MODEL } },
    });

    const removed = await runCli(['params', 'assignments', 'delete', tpl.id, '--tier', 'terminal', '--target', deviceId], { env });
    expect(removed.code, removed.stderr).toBe(0);
    expect(await desired()).toMatchObject({ values: { timeoutS: 45 }, sourceOf: { timeoutS: { tier: 'model', id: MODEL } } });
    const again = await runCli(['params', 'assignments', 'delete', tpl.id, '--tier', 'terminal', '--target', deviceId], { env });
    expect(again.code).toBe(3);
    expect(again.stderr).toMatch(/^error: not_found \(404\): /);
  }, 60_000);
});
