// How many terminals a target matches now, read from the server the way each target form is
// resolved: a query by POST /v1/filters/preview, a saved filter by its count, a group by its
// member count; a list of ids is its own count.
import type { CampaignSpecInput } from '../../../../schemas/campaigns.ts';
import { matchPreview } from '../../../../server/groups/filterRoutes.ts';
import { group } from '../../../../server/groups/groupRoutes.ts';
import { api } from '../../session.ts';

export async function targetCount(target: CampaignSpecInput['target']): Promise<number> {
  if ('query' in target) return (await api.call(matchPreview, 'POST', '/v1/filters/preview', { body: { query: target.query } })).count;
  if ('filterId' in target) return (await api.call(matchPreview, 'GET', `/v1/filters/${encodeURIComponent(target.filterId)}/count`)).count;
  if ('groupId' in target) return (await api.call(group, 'GET', `/v1/groups/${encodeURIComponent(target.groupId)}`)).members;
  if ('deviceIds' in target) return target.deviceIds.length;
  throw new Error('the form makes no field filter target');
}
