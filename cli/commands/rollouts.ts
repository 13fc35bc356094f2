// rollouts …: firmware campaigns (/v1/rollouts, docs/ota.md), their create fields from the kind.
import { firmwareParams } from '../../server/firmware/firmwareKind.ts';
import { campaignGroup } from './campaigns.ts';

export const rolloutsGroup = campaignGroup(
  { words: 'rollouts', noun: 'rollout', routeNoun: 'rollout', basePath: '/v1/rollouts', paramsShape: firmwareParams.shape },
  'firmware rollouts: create -f, list, get, start, pause, resume, cancel, watch, devices',
);
