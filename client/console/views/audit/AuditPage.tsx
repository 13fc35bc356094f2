/** @jsxImportSource preact */
// The audit log: newest first, filtered on the server by actor, action, target and time (the
// filters live in the address, so a link shows the same entries), and the chain verified on demand.
import { useState } from 'preact/hooks';
import { AuditPageSchema } from '../../../../server/audit/routes.ts';
import { ExportButton } from '../../ExportButton.tsx';
import { api } from '../../session.ts';
import { ErrorBox, Field, FilterForm, Pager, Table, Time } from '../../ui.tsx';
import { usePaged } from '../../usePaged.ts';
import type { ViewContext } from '../../viewContract.ts';
import { VerifyChain } from './VerifyChain.tsx';
import { auditFilterKeys, auditQuery, type AuditFilters } from './auditFilters.ts';

const PAGE = 50;
const KNOWN_ACTIONS = [
  'firmware.create',
  'firmware.upload',
  'app.create',
  'app.upload',
  'user.create',
  'user.create.request',
  'user.create.approve',
  'user.create.reject',
  'user.token.issue',
  'user.disable',
];

const fromQuery = (q: URLSearchParams): AuditFilters =>
  Object.fromEntries(auditFilterKeys.flatMap((k) => (q.get(k) ? [[k, q.get(k) ?? '']] : [])));

/** The details of an entry on one line; the whole object on hover. */
function Details({ data }: { data: Record<string, unknown> }) {
  const text = JSON.stringify(data);
  if (text === '{}') return <span class="muted">—</span>;
  return <code title={text}>{text.length > 80 ? `${text.slice(0, 79)}…` : text}</code>;
}

export function AuditPage({ ctx }: { ctx: ViewContext }) {
  const [draft, setDraft] = useState<AuditFilters>(() => fromQuery(ctx.query));
  const [applied, setApplied] = useState<AuditFilters>(draft);
  const [badFilter, setBadFilter] = useState<string | null>(null);
  const list = usePaged(
    (cursor) => {
      const query = auditQuery(applied);
      if (!query.ok) return Promise.reject(new Error(query.message));
      return api.call(AuditPageSchema, 'GET', '/v1/audit', { query: { ...query.query, limit: PAGE, cursor } });
    },
    [applied],
  );

  const apply = (next: AuditFilters) => {
    const clean: AuditFilters = Object.fromEntries(Object.entries(next).flatMap(([k, v]) => (v?.trim() ? [[k, v.trim()]] : [])));
    const checked = auditQuery(clean);
    setBadFilter(checked.ok ? null : checked.message);
    if (!checked.ok) return;
    const params = new URLSearchParams(clean);
    history.replaceState(null, '', `/ui/audit${params.size ? `?${params}` : ''}`);
    setApplied(clean);
  };
  const byActor = (actorId: string) => {
    const next = { ...draft, actorId };
    setDraft(next);
    apply(next);
  };
  const input = (id: string, k: keyof AuditFilters, label: string, type = 'text', list?: string) => (
    <Field label={label} id={id}>
      <input
        id={id}
        name={k}
        type={type}
        list={list}
        value={draft[k] ?? ''}
        autocomplete="off"
        onInput={(e) => setDraft((d) => ({ ...d, [k]: e.currentTarget.value }))}
      />
    </Field>
  );
  const filtered = Object.keys(applied).length > 0;
  const appliedQuery = auditQuery(applied);

  return (
    <>
      <VerifyChain />
      <FilterForm
        label="Filter audit entries"
        onApply={() => apply(draft)}
        onClear={() => {
          setDraft({});
          apply({});
        }}
      >
        {input('a-actor', 'actorId', 'Actor id')}
        {input('a-action', 'action', 'Action', 'text', 'a-actions')}
        {input('a-target', 'target', 'Target id')}
        {input('a-since', 'since', 'From (local time)', 'datetime-local')}
        {input('a-until', 'until', 'Before (local time)', 'datetime-local')}
        <datalist id="a-actions">
          {KNOWN_ACTIONS.map((a) => (
            <option value={a} />
          ))}
        </datalist>
      </FilterForm>
      {badFilter ? <ErrorBox error={new Error(badFilter)} /> : null}
      {appliedQuery.ok ? (
        <div class="list-head">
          <p class="muted small">Export CSV: the entries matching these filters, oldest first, with the hash chain to verify offline.</p>
          <ExportButton path="/v1/exports/audit" query={appliedQuery.query} fileName="audit.csv" />
        </div>
      ) : null}
      <div aria-live="polite" aria-busy={list.busy ? 'true' : 'false'}>
        {list.error ? (
          <ErrorBox error={list.error} />
        ) : list.page ? (
          <Table
            caption="Audit entries"
            className="audit-table"
            head={['#', 'When', 'Actor', 'Action', 'Target', 'From', 'Details']}
            empty={
              filtered
                ? 'No entry matches these filters. Widen the time range or clear the filters.'
                : 'The audit log is empty: every change made through the API (users, firmware, rollouts…) is recorded here.'
            }
          >
            {list.page.items.map((e) => (
              <tr key={e.seq} data-seq={e.seq} data-action={e.action}>
                <td>{e.seq}</td>
                <td>
                  <Time iso={e.ts} />
                </td>
                <td>
                  {e.actorId ? (
                    <button
                      type="button"
                      class="btn btn-quiet btn-small"
                      title={`Only entries by ${e.actorId}`}
                      onClick={() => e.actorId && byActor(e.actorId)}
                    >
                      {e.actorName ?? e.actorId}
                    </button>
                  ) : (
                    <span class="muted">the server</span>
                  )}
                </td>
                <td>
                  <code>{e.action}</code>
                </td>
                <td>{e.target ?? '—'}</td>
                <td>{e.ip ?? '—'}</td>
                <td>
                  <Details data={e.data} />
                </td>
              </tr>
            ))}
          </Table>
        ) : null}
      </div>
      <Pager label="Pages of audit entries" index={list.index} hasNext={list.hasNext} go={list.go} />
    </>
  );
}
