/** @jsxImportSource preact */
// The fault queue (/ui/faults): filtered, sorted and paged on the server (worst first, then oldest,
// or another order), with the total of what matches; acknowledge / resolve / notes / assignment in
// place, bulk acknowledge and resolve over selected rows, new faults arriving live.
import { Fragment } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { MeSchema } from '../../../../server/auth/meSchema.ts';
import { fault } from '../../../../server/faults/faultSchemas.ts';
import type { FaultSort } from '../../../../server/faults/faultSort.ts';
import { useLiveEvents } from '../../live.ts';
import { ExportButton } from '../../ExportButton.tsx';
import { api, has, isRole } from '../../session.ts';
import { ErrorBox, fmtNumber, Pager } from '../../ui.tsx';
import { usePaged } from '../../usePaged.ts';
import type { Me, ViewContext } from '../../viewContract.ts';
import { useThrottledLive } from '../campaigns/useThrottledLive.ts';
import { BulkActions } from './BulkActions.tsx';
import { FaultDetail, usePeople } from './FaultDetail.tsx';
import { FaultFilterBar } from './FaultFilterBar.tsx';
import { FaultRow } from './FaultRow.tsx';
import {
  cleanFilters,
  DEFAULT_SORT,
  faultPage,
  faultsUrl,
  filtersFromQuery,
  isSort,
  SORT_LABELS,
  where,
  type FaultFilters,
  type ListedFault,
} from './faultView.ts';
import { askResolve } from './resolveDialog.ts';

const PAGE = 50;
const COLUMNS = ['Severity', 'Fault', 'Terminal', 'State', 'Opened', 'Assignee', 'Actions'];
const FRESH_MS = 6000;

export function FaultsPage({ ctx }: { ctx: ViewContext }) {
  if (!has('GET /v1/faults')) {
    return (
      <p class="unavailable" data-unavailable="The fault queue">
        The fault queue: not available in this build.
      </p>
    );
  }
  return <FaultQueue ctx={ctx} />;
}

const toggled = (set: Set<string>, id: string, on: boolean) => {
  const next = new Set(set);
  if (on) next.add(id);
  else next.delete(id);
  return next;
};

function FaultQueue({ ctx }: { ctx: ViewContext }) {
  const [draft, setDraft] = useState<FaultFilters>(() => filtersFromQuery(ctx.query));
  const [applied, setApplied] = useState<FaultFilters>(draft);
  const [sort, setSort] = useState<FaultSort>(() => {
    const s = ctx.query.get('sort');
    return isSort(s) ? s : DEFAULT_SORT;
  });
  const [total, setTotal] = useState<number | null>(null);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [expanded, setExpanded] = useState<Set<string>>(new Set());
  const [fresh, setFresh] = useState<Set<string>>(new Set());
  const [notesVersion, setNotesVersion] = useState<Record<string, number>>({});
  const [me, setMe] = useState<Me | null>(null);
  const people = usePeople();
  const canTriage = isRole('admin', 'operator', 'technician');

  useEffect(() => void api.call(MeSchema, 'GET', '/v1/me').then(setMe, () => undefined), []);
  const list = usePaged(
    (cursor) =>
      api.call(faultPage, 'GET', '/v1/faults', { query: { ...applied, sort, limit: PAGE, cursor } }).then((p) => {
        if (p.total !== undefined) setTotal(p.total);
        return p;
      }),
    [applied, sort],
  );
  const items = list.page?.items ?? [];
  useEffect(() => setSelected(new Set()), [applied, sort, list.index]);

  useThrottledLive((name) => name === 'fault.opened' || name === 'fault.updated' || name === 'stream.resumed', list.reload, 800);
  useLiveEvents((name, data) => {
    const id = typeof data.id === 'string' ? data.id : null;
    if (!id) return;
    if (name === 'fault.opened') {
      setFresh((s) => toggled(s, id, true));
      setTimeout(() => setFresh((s) => toggled(s, id, false)), FRESH_MS);
    }
    if (name === 'fault.updated' && data.action === 'noted') setNotesVersion((v) => ({ ...v, [id]: (v[id] ?? 0) + 1 }));
  });

  const show = (f: FaultFilters, s: FaultSort) => {
    history.replaceState(null, '', faultsUrl(f, s));
    setApplied(cleanFilters(f));
    setSort(s);
  };

  async function acknowledge(f: ListedFault) {
    try {
      await api.call(fault, 'POST', `/v1/faults/${encodeURIComponent(f.id)}/acknowledge`);
      ctx.announce(`Acknowledged: ${where(f)}.`);
      ctx.toast('Acknowledged.', 'success');
      list.reload();
    } catch (err) {
      ctx.toast(`Acknowledge failed: ${err instanceof Error ? err.message : String(err)}`, 'error');
    }
  }
  async function resolve(f: ListedFault) {
    const note = await askResolve(ctx, {
      title: 'Resolve this fault?',
      text: `${f.title} on terminal ${f.serial ?? f.deviceId}. If the condition is still there, the rules open a new fault.`,
      confirmLabel: 'Resolve fault',
    });
    if (note === null) return;
    try {
      await api.call(fault, 'POST', `/v1/faults/${encodeURIComponent(f.id)}/resolve`, { body: note ? { note } : {} });
      ctx.announce(`Resolved: ${where(f)}.`);
      ctx.toast('Resolved.', 'success');
      list.reload();
    } catch (err) {
      ctx.toast(`Resolve failed: ${err instanceof Error ? err.message : String(err)}`, 'error');
    }
  }

  const chosen = items.filter((f) => selected.has(f.id));
  const allChosen = items.length > 0 && chosen.length === items.length;
  const shownText = `${items.length} shown, ${SORT_LABELS[sort].toLowerCase()}.`;
  const countText = total === null ? shownText : `${fmtNumber(total)} fault${total === 1 ? '' : 's'} match; ${shownText}`;

  return (
    <>
      <FaultFilterBar
        draft={draft}
        setDraft={setDraft}
        sort={sort}
        onSort={(s) => show(applied, s)}
        onApply={() => show(draft, sort)}
        onClear={() => {
          setDraft({});
          show({}, DEFAULT_SORT);
        }}
      />
      <div class="list-head">
        <p class="muted fault-count" aria-live="polite" data-total={total ?? undefined}>
          {list.page ? countText : 'Loading faults…'}
        </p>
        <ExportButton path="/v1/exports/faults" query={{ ...applied }} fileName="faults.csv" />
      </div>
      <BulkActions
        ctx={ctx}
        selected={chosen}
        canTriage={canTriage}
        onDone={(done) => {
          setSelected((s) => new Set([...s].filter((id) => !done.some((f) => f.id === id))));
          list.reload();
        }}
      />
      <div class="table-wrap" role="region" aria-label="Fault queue" tabIndex={0}>
        <table class="table faults-table" data-sort={sort} aria-busy={list.busy ? 'true' : 'false'}>
          <caption class="visually-hidden">Fault queue</caption>
          <thead>
            <tr>
              <th scope="col">
                <input
                  type="checkbox"
                  aria-label="Select every fault on this page"
                  checked={allChosen}
                  disabled={!items.length}
                  onChange={(e) => setSelected(e.currentTarget.checked ? new Set(items.map((f) => f.id)) : new Set())}
                />
              </th>
              {COLUMNS.map((c) => (
                <th scope="col">{c}</th>
              ))}
            </tr>
          </thead>
          <tbody>
            {list.error ? (
              <tr>
                <td colSpan={COLUMNS.length + 1}>
                  <ErrorBox error={list.error} />
                </td>
              </tr>
            ) : list.page && !items.length ? (
              <tr>
                <td colSpan={COLUMNS.length + 1} class="empty">
                  No fault matches these filters. All clear.
                </td>
              </tr>
            ) : (
              items.map((f) => (
                <Fragment key={f.id}>
                  <FaultRow
                    f={f}
                    canTriage={canTriage}
                    selected={selected.has(f.id)}
                    expanded={expanded.has(f.id)}
                    fresh={fresh.has(f.id)}
                    showUpdated={sort === 'updated'}
                    onSelect={(on) => setSelected((s) => toggled(s, f.id, on))}
                    onAcknowledge={() => void acknowledge(f)}
                    onResolve={() => void resolve(f)}
                    onToggle={() => setExpanded((s) => toggled(s, f.id, !s.has(f.id)))}
                  />
                  {expanded.has(f.id) ? (
                    <FaultDetail
                      f={f}
                      ctx={ctx}
                      canTriage={canTriage}
                      people={people}
                      me={me}
                      notesVersion={notesVersion[f.id] ?? 0}
                      onChanged={list.reload}
                      colSpan={COLUMNS.length + 1}
                    />
                  ) : null}
                </Fragment>
              ))
            )}
          </tbody>
        </table>
      </div>
      <Pager label="Pages of faults" index={list.index} hasNext={list.hasNext} go={list.go} />
    </>
  );
}
