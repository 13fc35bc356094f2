/** @jsxImportSource preact */
// Rollouts and key rotations running or paused, each linking to its own page with how many of its
// terminals are done. Reloaded on campaign.updated and campaign.device, at most once in two seconds.
import { api, has } from '../../session.ts';
import { ErrorBox, fmtNumber, StateBadge } from '../../ui.tsx';
import { useThrottledLive } from '../campaigns/useThrottledLive.ts';
import { campaignHref, campaignPage, keyRotationKind, rolloutKind, type Campaign } from '../campaigns/campaignKinds.ts';
import { campaignProgress, isCampaignChange, isInProgress } from './overviewData.ts';
import { Unavailable } from '../../ui.tsx';
import { Loading } from './overviewParts.tsx';
import { useSummary } from './useSummary.ts';

const KINDS = [
  { kind: rolloutKind, label: 'Firmware' },
  { kind: keyRotationKind, label: 'Keys' },
];
// The newest 50 of each kind: campaigns in progress are few and recent.
const LIMIT = 50;

interface Active {
  campaign: Campaign;
  label: string;
  href: string;
}

export function CampaignsInProgress() {
  const kinds = KINDS.filter(({ kind }) => has(`GET ${kind.base}`));
  const active = useSummary<Active[]>(
    kinds.length
      ? async () => {
          const perKind = await Promise.all(
            kinds.map(async ({ kind, label }) => {
              const page = await api.call(campaignPage, 'GET', kind.base, { query: { limit: LIMIT } });
              return page.items.filter(isInProgress).map((campaign) => ({ campaign, label, href: campaignHref(kind, campaign.id) }));
            }),
          );
          return perKind.flat();
        }
      : null,
  );
  useThrottledLive(isCampaignChange, active.reload, 2000);

  if (!kinds.length) return <Unavailable what="Rollouts and key rotations" />;
  if (active.error) return <ErrorBox error={active.error} />;
  if (!active.data) return <Loading />;
  if (!active.data.length)
    return (
      <p class="muted">
        Nothing in progress. <a href="/ui/rollouts">All rollouts and key rotations</a>
      </p>
    );
  return (
    <ul class="plain-list" aria-label="Campaigns in progress">
      {active.data.map(({ campaign: c, label, href }) => {
        const { done, total, percent } = campaignProgress(c);
        return (
          <li class="campaign-mini" key={c.id} data-campaign-id={c.id}>
            <div>
              <a href={href}>{`${label}: ${c.name}`}</a> <StateBadge state={c.state} />
            </div>
            <span class="bar-track" aria-hidden="true">
              <span class={`bar-fill ${c.state === 'paused' ? 'sev-bg-warning' : ''}`} style={{ width: `${percent}%` }} />
            </span>
            <span class="small muted">{`${fmtNumber(done)} of ${fmtNumber(total)} terminals done (${percent}%)`}</span>
          </li>
        );
      })}
    </ul>
  );
}
