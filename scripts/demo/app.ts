// The demo's payment app: a new version of the app the demo terminals leave the factory with
// (com.posfleet.pay 1.0.0), signed with the demo's firmware publisher key (apps are signed by the
// firmware publishers, docs/apps.md), published by the acquirer and rolled out by one agent's
// operator to that agent's terminals only (a filter target matches only the caller's subtree).
// A later demo run finds the version and the deployment instead of making them again; one cut
// short between two steps is carried on (content uploaded, draft started).
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { z } from 'zod';
import { createApiClient, type ApiClient } from '../../client/apiClient.ts';
import type { AppManifest } from '../../schemas/apps.ts';
import type { CampaignSpecInput } from '../../schemas/campaigns.ts';
import { appSchema, packageSummary } from '../../server/apps/appRoutes.ts';
import { appParams } from '../../server/apps/appsKind.ts';
import { campaignView } from '../../server/campaigns/campaignRoutes.ts';
import { page } from '../../server/http/schemas.ts';
import { signAppManifest } from '../sign-app.ts';

export const DEMO_APP = { packageName: 'com.posfleet.pay', version: '1.1.0', model: 'PAX-A920', minFirmware: '1.0.0' } as const;
const PACKAGE_SIZE = 16 * 1024;

const deploymentView = campaignView('app-deployment', appParams.shape);
type Deployment = z.infer<typeof deploymentView>;
type DeploymentBody = { name: string } & z.input<typeof appParams> & CampaignSpecInput;
type PackageSummary = z.infer<typeof packageSummary>;

/**
 * Pure: the package image of `version`, the same bytes on every run (a header naming it, then a
 * SHA-256 chain), so a restarted demo signs the very same manifest and registering it is a no-op.
 */
export function demoAppPackage(version: string): Buffer {
  const header = Buffer.from(`posfleet demo payment app ${DEMO_APP.packageName} ${version}\n`, 'utf8');
  const blocks = [header];
  let block = createHash('sha256').update(header).digest();
  for (let size = header.length; size < PACKAGE_SIZE; size += block.length) {
    blocks.push(block);
    block = createHash('sha256').update(block).digest();
  }
  return Buffer.concat(blocks).subarray(0, PACKAGE_SIZE);
}

/** Pure: the manifest of a package image for the demo's model. */
export function demoAppManifest(version: string, image: Buffer): AppManifest {
  return {
    packageName: DEMO_APP.packageName,
    version,
    models: [DEMO_APP.model],
    minFirmware: DEMO_APP.minFirmware,
    size: image.length,
    sha256: createHash('sha256').update(image).digest('hex'),
  };
}

/** GET /v1/apps paged until the package turns up (null: no terminal reports it and it was never registered). */
async function packageNamed(client: ApiClient, name: string): Promise<PackageSummary | null> {
  let cursor: string | undefined;
  do {
    const p = await client.call(page(packageSummary), 'GET', '/v1/apps', { query: { limit: 100, cursor } });
    const found = p.items.find((s) => s.packageName === name);
    if (found) return found;
    cursor = p.nextCursor ?? undefined;
  } while (cursor);
  return null;
}

/** The demo version, registered and uploaded once: a version already ready is left as it is. */
async function publish(publisher: ApiClient, keyFile: string): Promise<string> {
  const listed = (await packageNamed(publisher, DEMO_APP.packageName))?.versions.find((v) => v.version === DEMO_APP.version);
  if (listed?.id && listed.state === 'ready') return listed.id;
  const image = demoAppPackage(DEMO_APP.version);
  const manifest = demoAppManifest(DEMO_APP.version, image);
  const registered = listed?.id
    ? { id: listed.id }
    : await publisher.call(appSchema, 'POST', '/v1/apps', {
        body: { manifest, signature: signAppManifest(manifest, readFileSync(keyFile, 'utf8')) },
      });
  const uploaded = await publisher.call(appSchema, 'PUT', `/v1/apps/${registered.id}/content`, {
    content: { type: 'application/octet-stream', data: new Uint8Array(image) },
  });
  if (uploaded.state !== 'ready') throw new Error(`app ${uploaded.id} is ${uploaded.state} after its upload, not ready`);
  return uploaded.id;
}

async function deploymentNamed(client: ApiClient, name: string): Promise<Deployment | null> {
  let cursor: string | undefined;
  do {
    const p = await client.call(page(deploymentView), 'GET', '/v1/app-deployments', { query: { limit: 100, cursor } });
    const found = p.items.find((d) => d.name === name);
    if (found) return found;
    cursor = p.nextCursor ?? undefined;
  } while (cursor);
  return null;
}

/** The update to every demo-model terminal the operator's subtree holds, made and started once. */
async function deploy(operator: ApiClient, appId: string, agentName: string): Promise<Deployment> {
  const name = `${DEMO_APP.packageName} ${DEMO_APP.version} to ${agentName}`;
  const existing = await deploymentNamed(operator, name);
  if (existing && existing.state !== 'draft') return existing;
  const body: DeploymentBody = {
    name,
    action: 'update',
    appId,
    target: { filter: { model: DEMO_APP.model } },
    phases: [{ name: 'all', percent: 100 }],
    // The demo fleet carries injected faults (flapping links, slow acks...): most, not all, update.
    successThreshold: 80,
    errorThreshold: 50,
    deviceTimeoutS: 300,
    retries: 2,
  };
  const draft = existing ?? (await operator.call(deploymentView, 'POST', '/v1/app-deployments', { body }));
  return operator.call(deploymentView, 'POST', `/v1/app-deployments/${draft.id}/start`);
}

export interface DemoApp {
  packageName: string;
  appId: string;
  /** Every version the fleet knows of the package, in the list's order: registered, or reported by terminals (the factory's). */
  versions: { version: string; id: string | null }[];
  agent: string;
  operatorTokenFile: string;
  deployment: { id: string; state: string };
}

/**
 * Publishes the demo version as `publisherToken`'s user (the acquirer's operator) and deploys it
 * as the agent's operator, whose token is in `agent.tokenFile`.
 */
export async function publishDemoApp(o: {
  baseUrl: string;
  publisherToken: string;
  publisherKeyFile: string;
  agent: { name: string; tokenFile: string };
}): Promise<DemoApp> {
  const publisher = createApiClient({ baseUrl: o.baseUrl, token: () => o.publisherToken });
  const agentToken = readFileSync(o.agent.tokenFile, 'utf8').trim();
  const operator = createApiClient({ baseUrl: o.baseUrl, token: () => agentToken });
  const appId = await publish(publisher, o.publisherKeyFile);
  const deployment = await deploy(operator, appId, o.agent.name);
  const listed = await packageNamed(publisher, DEMO_APP.packageName);
  return {
    packageName: DEMO_APP.packageName,
    appId,
    versions: (listed?.versions ?? []).map((v) => ({ version: v.version, id: v.id })),
    agent: o.agent.name,
    operatorTokenFile: o.agent.tokenFile,
    deployment: { id: deployment.id, state: deployment.state },
  };
}
