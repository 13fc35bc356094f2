/** @jsxImportSource preact */
// One kind's campaigns, newest first, paged: name (to its page), state, how far its terminals
// got, when it was made. Reloaded (at most once a second) when a campaign of any kind changes.
import { api, has, isRole } from '../../session.ts';
import { ErrorBox, Pager, StateBadge, Table, Time } from '../../ui.tsx';
import { usePaged } from '../../usePaged.ts';
import { campaignHref, campaignPage, type CampaignKindUi } from './campaignKinds.ts';
import { phaseTally, progressText } from './campaignRules.ts';
import { useThrottledLive } from './useThrottledLive.ts';

const PAGE = 20;

export function CampaignList({ kind }: { kind: CampaignKindUi }) {
  const available = has(`GET ${kind.base}`);
  const list = usePaged(
    (cursor) =>
      available
        ? api.call(campaignPage, 'GET', kind.base, { query: { limit: PAGE, cursor } })
        : Promise.resolve({ items: [], nextCursor: null }),
    [kind],
  );
  useThrottledLive((name) => name === 'campaign.updated' || name === 'stream.resumed', list.reload);
  const headingId = `h-${kind.key}`;
  const mayCreate = isRole('admin', 'operator');

  return (
    <section class="card" aria-labelledby={headingId} data-kind={kind.key}>
      <div class="section-tools">
        <h2 id={headingId}>{kind.title}</h2>
        {available && mayCreate ? (
          <a class="btn btn-primary btn-small" href={kind.newHref}>
            New {kind.noun}
          </a>
        ) : null}
      </div>
      {!available ? (
        <p class="unavailable" data-unavailable={kind.title}>
          {kind.title}: not available in this build.
        </p>
      ) : (
        <div aria-live="polite" aria-busy={list.busy ? 'true' : 'false'}>
          {list.error ? (
            <ErrorBox error={list.error} />
          ) : list.page ? (
            <Table
              caption={kind.title}
              className="campaigns-table"
              head={['Name', 'State', 'Terminals', 'Created']}
              empty={
                'madeOn' in kind
                  ? `No ${kind.noun} yet. They are made on ${kind.madeOn}.`
                  : mayCreate
                    ? `No ${kind.noun} yet. Create one with “New ${kind.noun}” (it starts as a draft you start when ready).`
                    : `No ${kind.noun} yet. An admin or operator creates them.`
              }
            >
              {list.page.items.map((c) => {
                const t = phaseTally(c.counts);
                return (
                  <tr key={c.id} class="campaign-row" data-campaign-id={c.id} data-state={c.state}>
                    <td>
                      <a href={campaignHref(kind, c.id)}>{c.name}</a>
                      {c.summary ? <div class="muted small">{c.summary}</div> : null}
                    </td>
                    <td>
                      <StateBadge state={c.state} />
                      {c.rollingBack ? <span class="badge state-failed">rolling back</span> : null}
                    </td>
                    <td class="small">{c.state === 'draft' ? 'not started' : progressText(t)}</td>
                    <td>
                      <Time iso={c.createdAt} />
                    </td>
                  </tr>
                );
              })}
            </Table>
          ) : null}
        </div>
      )}
      {available ? <Pager label={`Pages of ${kind.title.toLowerCase()}`} index={list.index} hasNext={list.hasNext} go={list.go} /> : null}
    </section>
  );
}
