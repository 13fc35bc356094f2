// The two campaign kinds the console shows, one set of pages for both: where each lives in the
// API and the console, what it is called, and the server's own schemas for its answers and its
// create body (server/campaigns/campaignRoutes.ts builds both kinds' routes).
import { z } from 'zod';
import { campaignSpecShape } from '../../../../schemas/campaigns.ts';
import { campaignView, failuresView, memberView } from '../../../../server/campaigns/campaignRoutes.ts';
import { firmwareParams } from '../../../../server/firmware/firmwareKind.ts';
import { page } from '../../../../server/http/schemas.ts';
import { keyRotationParams } from '../../../../server/keys/keyRotationKind.ts';

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
  createBody: createBodyOf(keyRotationParams.shape),
  params: keyRotationParams,
} as const;

export type CampaignKindUi = typeof rolloutKind | typeof keyRotationKind;
export const campaignKinds: readonly CampaignKindUi[] = [rolloutKind, keyRotationKind];

export const campaignPath = (kind: CampaignKindUi, id: string) => `${kind.base}/${encodeURIComponent(id)}`;
export const campaignHref = (kind: CampaignKindUi, id: string) => `${kind.ui}/${encodeURIComponent(id)}`;
