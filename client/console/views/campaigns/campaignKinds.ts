// The campaign kinds the console shows, one set of pages for all: where each lives in the API and
// the console, what it is called, where a new one is made, and the server's own schemas for its
// answers and its create body (server/campaigns/campaignRoutes.ts builds every kind's routes).
// Parameter pushes are made on the Parameters page (a template's push), so they have no form here.
import { z } from 'zod';
import { campaignSpecShape } from '../../../../schemas/campaigns.ts';
import { appParams } from '../../../../server/apps/appsKind.ts';
import { campaignView, failuresView, memberView } from '../../../../server/campaigns/campaignRoutes.ts';
import { firmwareParams } from '../../../../server/firmware/firmwareKind.ts';
import { page } from '../../../../server/http/schemas.ts';
import { keyRotationParams } from '../../../../server/keys/keyRotationKind.ts';
import { appDeploymentParams } from './campaignRules.ts';

/** Either kind's answer: the shared fields typed, the kind's own (firmwareId, usages…) kept as they came. */
export const campaignAnswer = campaignView('Campaign', {});
export type Campaign = z.infer<typeof campaignAnswer>;
export const campaignPage = page(campaignAnswer);
export const memberPage = page(memberView);
export type Member = z.infer<typeof memberView>;
export { failuresView };

const createBodyOf = <P extends z.ZodRawShape>(params: P) =>
  z.object({ name: z.string().min(1).max(200), ...campaignSpecShape, ...params }).strict();

export const rolloutKind = {
  key: 'rollout',
  base: '/v1/rollouts',
  ui: '/ui/rollouts',
  title: 'Firmware rollouts',
  noun: 'rollout',
  newHref: '/ui/rollouts/new',
  /** The create body as the server checks it, to refuse a bad form before sending. */
  createBody: createBodyOf(firmwareParams.shape),
  /** The kind's own fields with their cross-field rules, which a merged body leaves out. */
  params: firmwareParams,
} as const;

export const keyRotationKind = {
  key: 'keyRotation',
  base: '/v1/key-rotations',
  ui: '/ui/key-rotations',
  title: 'Key rotations',
  noun: 'key rotation',
  newHref: '/ui/key-rotations/new',
  createBody: createBodyOf(keyRotationParams.shape),
  params: keyRotationParams,
} as const;

export const appDeploymentKind = {
  key: 'appDeployment',
  base: '/v1/app-deployments',
  ui: '/ui/app-deployments',
  title: 'App deployments',
  noun: 'app deployment',
  newHref: '/ui/app-deployments/new',
  createBody: createBodyOf(appParams.shape),
  params: appDeploymentParams,
} as const;

export const parameterPushKind = {
  key: 'parameterPush',
  base: '/v1/parameter-pushes',
  ui: '/ui/parameter-pushes',
  title: 'Parameter pushes',
  noun: 'parameter push',
  newHref: '/ui/parameters',
  madeOn: 'the Parameters page (a template pushed to a group or saved filter)',
} as const;

/** The kinds made with this set's form. */
export type CreatableKind = typeof rolloutKind | typeof keyRotationKind | typeof appDeploymentKind;
export type CampaignKindUi = CreatableKind | typeof parameterPushKind;
export const campaignKinds: readonly CampaignKindUi[] = [rolloutKind, keyRotationKind, appDeploymentKind, parameterPushKind];

export const campaignPath = (kind: CampaignKindUi, id: string) => `${kind.base}/${encodeURIComponent(id)}`;
export const campaignHref = (kind: CampaignKindUi, id: string) => `${kind.ui}/${encodeURIComponent(id)}`;
