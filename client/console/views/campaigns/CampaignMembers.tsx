/** @jsxImportSource preact */
// Every terminal of a campaign, paged on the server, filtered by state and by error code: its
// serial (to the device page), phase, state, progress, and for a failed one its error.
import { useEffect, useState } from 'preact/hooks';
import { campaignDeviceStates } from '../../../../schemas/campaigns.ts';
import { ExportButton } from '../../ExportButton.tsx';
import { api } from '../../session.ts';
import { ErrorBox, Field, FilterForm, Pager, StateBadge, Table, Time } from '../../ui.tsx';
import { usePaged } from '../../usePaged.ts';
import { campaignPath, memberPage, type CampaignKindUi } from './campaignKinds.ts';

const PAGE = 50;

export interface MemberFilters {
  state: string;
  errorCode: string;
}

export function CampaignMembers(props: {
  kind: CampaignKindUi;
  id: string;
  reloadKey: number;
  filters: MemberFilters;
  onFilters(f: MemberFilters): void;
}) {
  const { kind, id, filters } = props;
  const [draft, setDraft] = useState<MemberFilters>(filters);
  useEffect(() => setDraft(filters), [filters]);
  const list = usePaged(
    (cursor) =>
      api.call(memberPage, 'GET', `${campaignPath(kind, id)}/devices`, {
        query: { limit: PAGE, cursor, state: filters.state || undefined, errorCode: filters.errorCode || undefined },
      }),
    [kind, id, filters],
  );
  useEffect(() => {
    if (props.reloadKey) list.reload();
  }, [props.reloadKey]);

  const set = (k: keyof MemberFilters) => (e: Event) => {
    const el = e.currentTarget;
    if (el instanceof HTMLInputElement || el instanceof HTMLSelectElement) setDraft((d) => ({ ...d, [k]: el.value }));
  };

  return (
    <section class="card" aria-labelledby="h-members">
      <h2 id="h-members">Terminals</h2>
      <FilterForm
        label="Filter terminals"
        onApply={() => props.onFilters({ state: draft.state, errorCode: draft.errorCode.trim() })}
        onClear={() => props.onFilters({ state: '', errorCode: '' })}
      >
        <Field label="State" id="m-state">
          <select id="m-state" name="state" value={draft.state} onChange={set('state')}>
            <option value="">Any</option>
            {campaignDeviceStates.map((s) => (
              <option value={s}>{s.replace(/_/g, ' ')}</option>
            ))}
          </select>
        </Field>
        <Field label="Error code" id="m-code">
          <input id="m-code" name="errorCode" type="text" value={draft.errorCode} autocomplete="off" onInput={set('errorCode')} />
        </Field>
      </FilterForm>
      <div class="list-head">
        <p class="muted small">Export CSV: these terminals' results, with the error code and message of each failed one.</p>
        <ExportButton
          path={`/v1/exports/campaigns/${encodeURIComponent(id)}/devices`}
          query={{ state: filters.state || undefined, errorCode: filters.errorCode || undefined }}
          fileName={`campaign-${id}-devices.csv`}
        />
      </div>
      <div aria-live="polite" aria-busy={list.busy ? 'true' : 'false'}>
        {list.error ? (
          <ErrorBox error={list.error} />
        ) : list.page ? (
          <Table
            caption="Terminals of this campaign"
            className="members-table"
            head={['Serial', 'Phase', 'State', 'Progress', 'Error', 'Last heard']}
            empty={
              filters.state || filters.errorCode
                ? 'No terminal matches these filters.'
                : 'No terminal yet: they are drawn into phases when the campaign starts.'
            }
          >
            {list.page.items.map((m) => (
              <tr key={m.deviceId} class="member-row" data-device-id={m.deviceId} data-state={m.state}>
                <td>
                  {m.serial ? (
                    <a href={`/ui/devices/${encodeURIComponent(m.deviceId)}`}>{m.serial}</a>
                  ) : (
                    <span class="muted">{m.deviceId} (deleted)</span>
                  )}
                </td>
                <td>{m.phase + 1}</td>
                <td>
                  <StateBadge state={m.state} />
                  {m.action === 'revert' ? <span class="muted small"> reverting</span> : null}
                </td>
                <td>{m.progress === null ? '—' : `${m.progress}%`}</td>
                <td>
                  {m.error ? (
                    <>
                      <code class="error-code">{m.error.code}</code> <span class="small">{m.error.message}</span>
                    </>
                  ) : m.note ? (
                    <span class="muted small">{m.note}</span>
                  ) : (
                    '—'
                  )}
                </td>
                <td>
                  <Time iso={m.lastHeardAt} />
                </td>
              </tr>
            ))}
          </Table>
        ) : null}
      </div>
      <Pager label="Pages of terminals" index={list.index} hasNext={list.hasNext} go={list.go} />
    </section>
  );
}
