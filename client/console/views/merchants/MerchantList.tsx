/** @jsxImportSource preact */
// Every merchant, filtered and paged on the server (GET /v1/merchants: q, status); each name opens
// the merchant's page.
import { useState } from 'preact/hooks';
import { page as pageOf } from '../../../../server/http/schemas.ts';
import { merchantOut } from '../../../../server/merchants/apiSchemas.ts';
import { api } from '../../session.ts';
import { ErrorBox, Field, FilterForm, Pager, StateBadge, Table, Time } from '../../ui.tsx';
import { usePaged } from '../../usePaged.ts';

const PAGE = 25;
const merchantPage = pageOf(merchantOut);
type Filters = { q?: string; status?: string };

export function MerchantList({ refresh }: { refresh: number }) {
  const [draft, setDraft] = useState<Filters>({});
  const [applied, setApplied] = useState<Filters>({});
  const list = usePaged(
    (cursor) => api.call(merchantPage, 'GET', '/v1/merchants', { query: { ...applied, limit: PAGE, cursor } }),
    [applied, refresh],
  );
  const set = (k: keyof Filters) => (e: Event) => {
    const el = e.currentTarget;
    if (el instanceof HTMLInputElement || el instanceof HTMLSelectElement) setDraft((d) => ({ ...d, [k]: el.value }));
  };
  const apply = (f: Filters) => setApplied(Object.fromEntries(Object.entries(f).flatMap(([k, v]) => (v?.trim() ? [[k, v.trim()]] : []))));

  return (
    <>
      <FilterForm
        label="Filter merchants"
        onApply={() => apply(draft)}
        onClear={() => {
          setDraft({});
          apply({});
        }}
      >
        <Field label="Search" id="mf-q">
          <input id="mf-q" type="search" autocomplete="off" value={draft.q ?? ''} placeholder="name or MID" onInput={set('q')} />
        </Field>
        <Field label="Status" id="mf-status">
          <select id="mf-status" value={draft.status ?? ''} onChange={set('status')}>
            {[
              ['', 'Any'],
              ['active', 'Active'],
              ['pending_review', 'Pending review'],
              ['suspended', 'Suspended'],
              ['rejected', 'Rejected'],
            ].map(([v, t]) => (
              <option value={v}>{t}</option>
            ))}
          </select>
        </Field>
      </FilterForm>
      <div aria-live="polite" aria-busy={list.busy ? 'true' : 'false'}>
        {list.error ? (
          <ErrorBox error={list.error} />
        ) : list.page ? (
          <Table
            caption="Merchants"
            className="merchants-table"
            head={['Merchant', 'MID', 'Kind', 'Status', 'Radius', 'Time zone', 'Since']}
            empty="No merchant matches. Clear the filters, or create a merchant above."
          >
            {list.page.items.map((m) => (
              <tr key={m.id} data-merchant-row={m.id}>
                <td>
                  <a href={`/ui/merchants/${encodeURIComponent(m.id)}`}>{m.name}</a>
                  <div class="muted small">
                    <code>{m.id}</code>
                  </div>
                </td>
                <td>
                  <code>{m.mid}</code>
                </td>
                <td>{m.kind}</td>
                <td>
                  <StateBadge state={m.status} />
                </td>
                <td>{m.radiusM} m</td>
                <td>{m.timezone}</td>
                <td>
                  <Time iso={m.createdAt} />
                </td>
              </tr>
            ))}
          </Table>
        ) : null}
      </div>
      <Pager label="Pages of merchants" index={list.index} hasNext={list.hasNext} go={list.go} />
    </>
  );
}
