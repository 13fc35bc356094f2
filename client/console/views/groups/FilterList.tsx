/** @jsxImportSource preact */
// Saved filters, paged, each with its live count (asked per row when shown: a filter's answer
// moves with the fleet and with time), the query as written, and delete after confirmation.
import { useEffect, useState } from 'preact/hooks';
import type { z } from 'zod';
import { matchPreview, savedFilter } from '../../../../server/groups/filterRoutes.ts';
import { page } from '../../../../server/http/schemas.ts';
import { api } from '../../session.ts';
import { ErrorBox, fmtNumber, Pager, Table, Time } from '../../ui.tsx';
import { usePaged } from '../../usePaged.ts';
import type { ViewContext } from '../../viewContract.ts';
import { FilterEditor } from './FilterEditor.tsx';

const PAGE = 50;
const filterPage = page(savedFilter);
type SavedFilter = z.infer<typeof savedFilter>;

function LiveCount({ id, refresh }: { id: string; refresh: number }) {
  const [count, setCount] = useState<number | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    api
      .call(matchPreview, 'GET', `/v1/filters/${encodeURIComponent(id)}/count`)
      .then((p) => setCount(p.count))
      .catch(setError);
  }, [id, refresh]);
  if (error) return <ErrorBox error={error} />;
  return count === null ? <span class="muted">…</span> : <span data-count={count}>{fmtNumber(count)}</span>;
}

export function FilterList({ ctx, canChange }: { ctx: ViewContext; canChange: boolean }) {
  const [refresh, setRefresh] = useState(0);
  const [error, setError] = useState<unknown>(null);
  const list = usePaged((cursor) => api.call(filterPage, 'GET', '/v1/filters', { query: { limit: PAGE, cursor } }), [refresh]);

  const remove = async (f: SavedFilter) => {
    const ok = await ctx.confirm({
      title: `Delete the filter ${f.name}?`,
      body: 'No terminal changes. Dynamic campaigns that target this filter take in no one more.',
      confirmLabel: 'Delete filter',
      danger: true,
    });
    if (!ok) return;
    setError(null);
    try {
      await api.raw('DELETE', `/v1/filters/${encodeURIComponent(f.id)}`);
      ctx.toast(`Filter ${f.name} deleted`, 'success');
      setRefresh((r) => r + 1);
    } catch (err) {
      setError(err);
    }
  };

  return (
    <section aria-labelledby="filters-title">
      <h2 id="filters-title">Saved filters</h2>
      <FilterEditor
        canSave={canChange}
        onSaved={(name) => {
          ctx.toast(`Filter ${name} saved`, 'success');
          ctx.announce(`Filter ${name} saved`);
          setRefresh((r) => r + 1);
        }}
      />
      {error ? <ErrorBox error={error} /> : null}
      <div aria-live="polite" aria-busy={list.busy ? 'true' : 'false'}>
        {list.error ? (
          <ErrorBox error={list.error} />
        ) : list.page ? (
          <Table
            caption="Saved filters"
            className="filters-table"
            head={['Name', 'Matches now', 'Query', 'Updated', '']}
            empty="No saved filters yet. Type a fleet query above, preview it, name it and save it."
          >
            {list.page.items.map((f) => (
              <tr key={f.id} data-filter-id={f.id}>
                <td>{f.name}</td>
                <td class="filter-count">
                  <LiveCount id={f.id} refresh={refresh} />
                </td>
                <td>
                  <code>{f.query}</code>
                </td>
                <td>
                  <Time iso={f.updatedAt} />
                </td>
                <td>
                  {canChange ? (
                    <button type="button" class="btn btn-danger-outline" onClick={() => remove(f)}>
                      Delete
                    </button>
                  ) : null}
                </td>
              </tr>
            ))}
          </Table>
        ) : null}
      </div>
      <Pager label="Pages of saved filters" index={list.index} hasNext={list.hasNext} go={list.go} />
    </section>
  );
}
