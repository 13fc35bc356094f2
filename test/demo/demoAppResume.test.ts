// The demo's payment-app step (scripts/demo/app.ts) after a demo stopped halfway through it, on a
// real server with real agents: a version registered without its content gets it, a deployment
// left as a draft is started, and what is done already is never made a second time.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DEMO_APP, demoAppManifest, demoAppPackage, publishDemoApp } from '../../scripts/demo/app.ts';
import { signAppManifest } from '../../scripts/sign-app.ts';
import { generatePublisherKey } from '../../scripts/sign-firmware.ts';
import { AuditPageSchema } from '../../server/audit/routes.ts';
import { appSchema } from '../../server/apps/appRoutes.ts';
import { appParams } from '../../server/apps/appsKind.ts';
import { campaignView } from '../../server/campaigns/campaignRoutes.ts';
import { eventually } from '../helpers/eventually.ts';
import { startTestFleet, type TestFleet } from '../helpers/fleet.ts';
import { onDefaultServer, TEST_ADMIN_TOKEN, type TestServer } from '../helpers/testServer.ts';

const publisher = generatePublisherKey();
const deploymentView = campaignView('app-deployment', appParams.shape);

interface DemoAgentUnderTest {
  name: string;
  tokenFile: string;
  token: string;
}

async function auditCount(t: TestServer, action: string): Promise<number> {
  const r = await t.api('GET', `/v1/audit?action=${action}&limit=100`);
  expect(r.status, r.text).toBe(200);
  return AuditPageSchema.parse(r.body).items.length;
}

onDefaultServer(
  'demo payment app after a demo stopped halfway',
  (server) => {
    const dir = mkdtempSync(join(tmpdir(), 'pf-demo-app-'));
    const keyFile = join(dir, 'publisher.key');
    const agents: DemoAgentUnderTest[] = [];
    let fleet: TestFleet | undefined;

    beforeAll(async () => {
      const t = server();
      writeFileSync(keyFile, publisher.privateKeyPem, { mode: 0o600 });
      fleet = await startTestFleet(t, { devices: 4, prefix: 'DAPP', healthIntervalS: 30 });
      for (const [k, name] of ['North Agent', 'South Agent'].entries()) {
        const org = await t.api<{ id: string }>('POST', '/v1/orgs', { name });
        expect(org.status, org.text).toBe(201);
        const user = await t.api<{ token: string }>('POST', '/v1/users', { name: `op-${k}`, role: 'operator', orgId: org.body.id });
        expect(user.status, user.text).toBe(201);
        const serials = fleet.fleet.agents.slice(2 * k, 2 * k + 2).map((a) => a.serial);
        const moved = await t.api('POST', `/v1/orgs/${org.body.id}/allocations`, { serials });
        expect(moved.status, moved.text).toBe(200);
        const tokenFile = join(dir, `op-${k}.token`);
        writeFileSync(tokenFile, `${user.body.token}\n`);
        agents.push({ name, tokenFile, token: user.body.token });
      }
    }, 60_000);

    afterAll(async () => {
      await fleet?.fleet.stop();
      if (fleet) rmSync(fleet.stateDir, { recursive: true, force: true });
      rmSync(dir, { recursive: true, force: true });
    });

    const step = (agent: DemoAgentUnderTest) =>
      publishDemoApp({ baseUrl: server().url, publisherToken: TEST_ADMIN_TOKEN, publisherKeyFile: keyFile, agent });

    it('uploads the content of a version registered before the stop, then deploys it', async () => {
      const t = server();
      const image = demoAppPackage(DEMO_APP.version);
      const manifest = demoAppManifest(DEMO_APP.version, image);
      const registered = await t.api('POST', '/v1/apps', { manifest, signature: signAppManifest(manifest, publisher.privateKeyPem) });
      expect(registered.status, registered.text).toBe(201);
      const { id } = appSchema.parse(registered.body);

      const app = await step(agents[0]!);
      expect(app.appId).toBe(id);
      expect(appSchema.parse((await t.api('GET', `/v1/apps/${id}`)).body).state).toBe('ready');
      expect(app.versions).toEqual([
        { version: '1.0.0', id: null },
        { version: DEMO_APP.version, id },
      ]);
      expect(app.deployment.state).not.toBe('draft');
    });

    it('starts a deployment left as a draft instead of making another', async () => {
      const t = server();
      const south = agents[1]!;
      const appId = (await step(agents[0]!)).appId;
      const draft = await t.api(
        'POST',
        '/v1/app-deployments',
        {
          name: `${DEMO_APP.packageName} ${DEMO_APP.version} to ${south.name}`,
          action: 'update',
          appId,
          target: { filter: { model: DEMO_APP.model } },
          phases: [{ name: 'all', percent: 100 }],
          successThreshold: 80,
          errorThreshold: 50,
        },
        { token: south.token },
      );
      expect(draft.status, draft.text).toBe(201);
      const { id } = deploymentView.parse(draft.body);

      const app = await step(south);
      expect(app.deployment.id).toBe(id);
      const done = await eventually(
        async () => {
          const d = deploymentView.parse((await t.api('GET', `/v1/app-deployments/${id}`, undefined, { token: south.token })).body);
          return d.state === 'draft' || d.state === 'running' ? undefined : d;
        },
        { timeoutMs: 30_000, what: "South's deployment to end" },
      );
      expect(done).toMatchObject({ state: 'succeeded', counts: { succeeded: 2 } });
    });

    it('makes nothing twice when every step was done', async () => {
      const t = server();
      const before = await step(agents[0]!);
      const again = await step(agents[0]!);
      expect(again).toEqual(before);
      expect(await auditCount(t, 'app.create')).toBe(1);
      expect(await auditCount(t, 'app.upload')).toBe(1);
      // North's (made in the first case) and South's (the draft of the second).
      expect(await auditCount(t, 'app-deployment.create')).toBe(2);
      expect(await auditCount(t, 'app-deployment.start')).toBe(2);
    });
  },
  { env: { FIRMWARE_PUBLISHER_KEYS: publisher.publicKeyBase64, CAMPAIGN_TICK_MS: '200', CAMPAIGN_RETRY_BASE_MS: '300' } },
);
