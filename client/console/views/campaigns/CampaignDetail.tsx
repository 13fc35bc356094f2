/** @jsxImportSource preact */
// /ui/rollouts/{id} and /ui/key-rotations/{id}: one campaign, its controls and phases, why its
// failed terminals failed, and every terminal's state. Live: the campaign's own events reload it
// (at most once a second); a terminal's event also reloads the failures and the list.
import { useCallback, useEffect, useState } from 'preact/hooks';
import { api } from '../../session.ts';
import { ErrorBox, StateBadge, Time, fmtDate } from '../../ui.tsx';
import type { ViewContext } from '../../viewContract.ts';
import { campaignAnswer, campaignPath, type Campaign, type CampaignKindUi } from './campaignKinds.ts';
import { phaseTally, progressText } from './campaignRules.ts';
import { CampaignControls } from './CampaignControls.tsx';
import { CampaignFailures } from './CampaignFailures.tsx';
import { CampaignMembers, type MemberFilters } from './CampaignMembers.tsx';
import { PhaseList } from './PhaseList.tsx';
import { useThrottledLive } from './useThrottledLive.ts';

function CampaignSummary(props: { kind: CampaignKindUi; campaign: Campaign; ctx: ViewContext; onChanged(c: Campaign): void }) {
  const { kind, campaign: c } = props;
  const t = phaseTally(c.counts);
  return (
    <article class="card campaign" data-campaign-id={c.id} data-state={c.state} aria-labelledby="campaign-name">
      <div class="campaign-head">
        <h2 id="campaign-name">{c.name}</h2>
        <StateBadge state={c.state} />
        {c.rollingBack ? <span class="badge state-failed">rolling back</span> : null}
        <span class="muted small">
          {c.summary ? ` ${c.summary} · ` : ' '}created <Time iso={c.createdAt} />
        </span>
      </div>
      {c.pausedReason ? <p class="warn small">Paused: {c.pausedReason.replace(/_/g, ' ')}</p> : null}
      {c.state === 'draft' && c.startAt ? <p class="small">Starts by itself at {fmtDate(c.startAt)}.</p> : null}
      <p class="small campaign-totals">
        {c.state === 'draft' ? 'Not started: its terminals are drawn into phases when it starts.' : `All phases: ${progressText(t)}`}
        {` · success ≥ ${c.successThreshold}%, stops above ${c.errorThreshold}% errors (${c.onErrorThreshold})`}
      </p>
      <PhaseList campaign={c} />
      <CampaignControls kind={kind} campaign={c} ctx={props.ctx} onChanged={props.onChanged} />
    </article>
  );
}

export function CampaignDetail({ ctx, kind }: { ctx: ViewContext; kind: CampaignKindUi }) {
  const id = ctx.params[0] ?? '';
  const [campaign, setCampaign] = useState<Campaign | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [nonce, setNonce] = useState(0);
  const [filters, setFilters] = useState<MemberFilters>(() => ({
    state: ctx.query.get('state') ?? '',
    errorCode: ctx.query.get('errorCode') ?? '',
  }));

  const load = useCallback(() => {
    api
      .call(campaignAnswer, 'GET', campaignPath(kind, id))
      .then((c) => {
        setCampaign(c);
        setError(null);
        ctx.setTitle(`${kind.noun[0]?.toUpperCase()}${kind.noun.slice(1)}: ${c.name}`);
      })
      .catch(setError);
  }, [kind, id]);
  useEffect(load, [load]);

  const reloadAll = useCallback(() => {
    load();
    setNonce((n) => n + 1);
  }, [load]);
  useThrottledLive(
    (name, data) =>
      name === 'stream.resumed' ||
      (name === 'campaign.updated' && data.id === id) ||
      (name === 'campaign.device' && data.campaignId === id),
    reloadAll,
  );

  const applyFilters = (next: MemberFilters) => {
    const params = new URLSearchParams(Object.entries(next).filter(([, v]) => v));
    history.replaceState(null, '', `${location.pathname}${params.size ? `?${params}` : ''}`);
    setFilters(next);
  };

  if (error && !campaign) return <ErrorBox error={error} />;
  if (!campaign) return <p class="loading">Loading…</p>;
  return (
    <>
      <nav class="crumbs" aria-label="Breadcrumb">
        <a href="/ui/rollouts">Rollouts and key rotations</a>
      </nav>
      <CampaignSummary
        kind={kind}
        campaign={campaign}
        ctx={ctx}
        onChanged={(c) => {
          setCampaign(c);
          setNonce((n) => n + 1);
        }}
      />
      <CampaignFailures kind={kind} id={id} reloadKey={nonce} onPick={(code) => applyFilters({ state: '', errorCode: code })} />
      <CampaignMembers kind={kind} id={id} reloadKey={nonce} filters={filters} onFilters={applyFilters} />
    </>
  );
}
