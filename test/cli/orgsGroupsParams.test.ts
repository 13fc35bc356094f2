// The CLI's organisation, group, filter and parameter commands against a real server (PGlite, as
// every CLI suite): a node made and listed as the tree, terminals allocated to it with a bound one
// refused per terminal (exit 1), a group filled and emptied, a fleet query refused with its
// position marked and a filter saved, the templates, a terminal's parameter drift reported over
// MQTT, and a parameter push created from a spec file. Output read back as the server's schemas.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parametersDigest } from '../../schemas/parameters.ts';
import { campaignView } from '../../server/campaigns/campaignRoutes.ts';
import { group, groupMember } from '../../server/groups/groupRoutes.ts';
import { matchPreview, savedFilter } from '../../server/groups/filterRoutes.ts';
import { page } from '../../server/http/schemas.ts';
import { allocationOut, orgOut } from '../../server/orgs/orgSchemas.ts';
import { parametersKindParams } from '../../server/parameters/parametersKind.ts';
import { driftItem, parameterTemplateView } from '../../server/parameters/parameterSchemas.ts';
import { connectDevice, publish, registerAndEnroll } from '../helpers/devices.ts';
import { eventually } from '../helpers/eventually.ts';
import { onDefaultServer, TEST_ADMIN_TOKEN } from '../helpers/testServer.ts';
import { activeMerchant, createUser, uniqueTid } from '../merchants/helpers.ts';
import { orgTerminal } from '../orgs/helpers.ts';
import { runCli, scratchHome } from './runCli.ts';

const MODEL = 'PAX-CLIPARAM';

onDefaultServer('operator CLI: organisations, groups, filters and parameters', (server) => {
  let dir = '';
  let env: Record<string, string> = {};
  const tag = `O${Date.now().toString(36)}`;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'posfleet-cli-ogp-'));
    env = { HOME: scratchHome(), POSFLEET_URL: server().url, POSFLEET_TOKEN: TEST_ADMIN_TOKEN };
  });
  afterAll(() => dir && rmSync(dir, { recursive: true, force: true }));

  it('orgs create and list show the tree; allocate moves unbound terminals and refuses a bound one per terminal (exit 1)', async () => {
    const t = server();
    const created = await runCli(['orgs', 'create', '--name', `Agent ${tag}`, '--json'], { env });
    expect(created.code, created.stderr).toBe(0);
    const org = orgOut.parse(JSON.parse(created.stdout));
    expect(org).toMatchObject({ name: `Agent ${tag}`, parentId: 'org_root', depth: 1 });

    const listed = await runCli(['orgs', 'list'], { env });
    expect(listed.code, listed.stderr).toBe(0);
    const lines = listed.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^NAME\s+ID\s+PARENT\s+DEPTH\s+USERS\s+MERCHANTS\s+TERMINALS$/);
    expect(lines[1]).toMatch(/^\S.*\s+org_root\s+-\s+0\s/);
    expect(lines.find((l) => l.includes(org.id))).toMatch(new RegExp(`^Agent ${tag}\\s+${org.id}\\s+org_root\\s+1\\s+0\\s+0\\s+0$`));

    const [free, bound, another] = [
      await orgTerminal(t, TEST_ADMIN_TOKEN),
      await orgTerminal(t, TEST_ADMIN_TOKEN),
      await orgTerminal(t, TEST_ADMIN_TOKEN),
    ];
    const merchant = await activeMerchant(t, await createUser(t, 'admin'));
    const binding = await t.api('PUT', `/v1/devices/${bound!.id}/binding`, { merchantId: merchant.id, tid: uniqueTid() });
    expect(binding.status, binding.text).toBe(200);

    const refused = await runCli(['orgs', 'allocate', org.id, '--serials', `${free!.serial},${bound!.serial}`], { env });
    expect(refused.code, refused.stderr).toBe(1);
    expect(refused.stdout.trim().split('\n')).toEqual([
      expect.stringMatching(/^SERIAL\s+RESULT$/),
      expect.stringMatching(new RegExp(`^${free!.serial}\\s+moved$`)),
      expect.stringMatching(new RegExp(`^${bound!.serial}\\s+refused: terminal_bound$`)),
    ]);
    expect(refused.stderr.trim()).toBe(`1 moved to ${org.id}, 1 refused`);

    const moved = await runCli(['orgs', 'allocate', org.id, '--devices', another!.id, '--json'], { env });
    expect(moved.code, moved.stderr).toBe(0);
    expect(allocationOut.parse(JSON.parse(moved.stdout))).toEqual({ moved: 1, refused: [] });
    const orgOf = async (id: string) => (await t.api<{ orgId: string }>('GET', `/v1/devices/${id}`)).body.orgId;
    expect([await orgOf(free!.id), await orgOf(bound!.id), await orgOf(another!.id)]).toEqual([org.id, 'org_root', org.id]);
  }, 60_000);

  it('groups create, add, members, remove and list', async () => {
    const t = server();
    const ids = [(await registerAndEnroll(t)).deviceId, (await registerAndEnroll(t)).deviceId];
    const created = await runCli(['groups', 'create', '--name', `Pilot ${tag}`, '--description', 'first wave', '--json'], { env });
    expect(created.code, created.stderr).toBe(0);
    const g = group.parse(JSON.parse(created.stdout));
    expect(g).toMatchObject({ name: `Pilot ${tag}`, description: 'first wave', members: 0 });

    const added = await runCli(['groups', 'add', g.id, '--devices', ids.join(',')], { env });
    expect(added.code, added.stderr).toBe(0);
    expect(added.stdout.trim()).toBe(`group ${g.id} (Pilot ${tag}): 2 added, 0 removed, 2 members`);

    const members = await runCli(['groups', 'members', g.id, '--json'], { env });
    expect(members.code, members.stderr).toBe(0);
    expect(
      page(groupMember)
        .parse(JSON.parse(members.stdout))
        .items.map((m) => m.id)
        .sort(),
    ).toEqual([...ids].sort());

    const removed = await runCli(['groups', 'remove', g.id, '--devices', ids[0]!], { env });
    expect(removed.code, removed.stderr).toBe(0);
    expect(removed.stdout.trim()).toBe(`group ${g.id} (Pilot ${tag}): 0 added, 1 removed, 1 members`);

    const listed = await runCli(['groups', 'list'], { env });
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toMatch(new RegExp(`^${g.id}\\s+Pilot ${tag}\\s+1\\s+org_root\\s+first wave$`, 'm'));
  }, 60_000);

  it('filters preview marks where a query is refused (query_invalid, exit 3); a filter saved is listed and previews its matches', async () => {
    const t = server();
    const device = await registerAndEnroll(t, { model: MODEL });
    const bad = `model = "${MODEL}" and fw < 2`;
    const refused = await runCli(['filters', 'preview', '--query', bad], { env });
    expect(refused.code).toBe(3);
    const position = bad.indexOf('2');
    expect(refused.stderr.split('\n').slice(0, 3)).toEqual([
      `  ${bad}`,
      `  ${' '.repeat(position)}^ at ${position}: expected a quoted version such as "2.1.0"`,
      expect.stringMatching(/^error: query_invalid \(400\): /),
    ]);

    const query = `model = "${MODEL}"`;
    const created = await runCli(['filters', 'create', '--name', `Param terminals ${tag}`, '--query', query, '--json'], { env });
    expect(created.code, created.stderr).toBe(0);
    const f = savedFilter.parse(JSON.parse(created.stdout));
    expect(f).toMatchObject({ name: `Param terminals ${tag}`, query });

    const listed = await runCli(['filters', 'list', '--json'], { env });
    expect(listed.code, listed.stderr).toBe(0);
    expect(
      page(savedFilter)
        .parse(JSON.parse(listed.stdout))
        .items.map((x) => x.id),
    ).toContain(f.id);

    const preview = await runCli(['filters', 'preview', '--query', query, '--json'], { env });
    expect(preview.code, preview.stderr).toBe(0);
    expect(matchPreview.parse(JSON.parse(preview.stdout))).toMatchObject({ count: 1, sample: [{ id: device.deviceId, model: MODEL }] });
  }, 60_000);

  it('params templates list, drift as a terminal reports it, and a parameter push created from a spec file', async () => {
    const t = server();
    const tpl = await t.api<{ id: string }>('POST', '/v1/parameter-templates', {
      name: `cli-${tag}`,
      appliesTo: { model: MODEL },
      fields: [{ key: 'currency', type: 'enum', values: ['EUR', 'USD'], default: 'EUR' }],
    });
    expect(tpl.status, tpl.text).toBe(201);
    const templates = await runCli(['params', 'templates', 'list', '--name', `cli-${tag}`, '--json'], { env });
    expect(templates.code, templates.stderr).toBe(0);
    expect(page(parameterTemplateView).parse(JSON.parse(templates.stdout)).items).toMatchObject([
      { id: tpl.body.id, version: 1, appliesTo: { model: MODEL } },
    ]);

    const device = await registerAndEnroll(t, { model: MODEL });
    const values = { currency: 'USD' };
    const client = await connectDevice(device);
    try {
      await publish(client, `fleet/v1/${device.deviceId}/state`, {
        online: true,
        parameters: { templateId: tpl.body.id, version: 1, digest: parametersDigest(values), values },
      });
      await eventually(
        async () =>
          page(driftItem)
            .parse((await t.api('GET', '/v1/parameters/drift')).body)
            .items.some((d) => d.deviceId === device.deviceId),
        {
          what: 'drift reported',
        },
      );
    } finally {
      await new Promise<void>((done) => client.end(false, {}, () => done()));
    }
    const drift = await runCli(['params', 'drift'], { env });
    expect(drift.code, drift.stderr).toBe(0);
    expect(drift.stdout).toMatch(/^DEVICE\s+SERIAL\s+TEMPLATE\s+OTHER TEMPLATE\s+KEYS\s+REPORTED$/m);
    expect(drift.stdout).toMatch(
      new RegExp(`^${device.deviceId}\\s+${device.serial}\\s+${tpl.body.id} v1\\s+no\\s+currency\\s+\\S+$`, 'm'),
    );

    const spec = join(dir, 'push.json');
    writeFileSync(
      spec,
      JSON.stringify({
        name: `currency ${tag}`,
        templateId: tpl.body.id,
        target: { deviceIds: [device.deviceId] },
        phases: [{ name: 'all', percent: 100 }],
        successThreshold: 90,
        errorThreshold: 10,
      }),
    );
    const created = await runCli(['params', 'pushes', 'create', '-f', spec, '--json'], { env });
    expect(created.code, created.stderr).toBe(0);
    const push = campaignView('parameterPush', parametersKindParams.shape).parse(JSON.parse(created.stdout));
    expect(push).toMatchObject({ name: `currency ${tag}`, state: 'draft', templateId: tpl.body.id });

    const listed = await runCli(['params', 'pushes', 'list'], { env });
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toContain(push.id);
  }, 60_000);
});
