/** @jsxImportSource preact */
// A new saved filter: a fleet query typed in a box, previewed (how many terminals match now and
// the first of them) before it is saved. A query the API refuses is shown with its place marked
// and what was expected there (query_invalid's {position, expected}).
import { useState } from 'preact/hooks';
import type { z } from 'zod';
import { matchPreview, savedFilter } from '../../../../server/groups/filterRoutes.ts';
import { api } from '../../session.ts';
import { ErrorBox, Field, fmtNumber, inputText } from '../../ui.tsx';
import { locateQueryError, type LocatedQueryError } from './fleetInput.ts';

type Preview = z.infer<typeof matchPreview> & { query: string };


function QueryProblem({ located }: { located: LocatedQueryError }) {
  return (
    <div class="form-error query-error" role="alert" data-code="query_invalid" data-position={located.position}>
      <p>
        <code class="error-code">query_invalid</code> At character {located.position}: expected {located.expected}.
      </p>
      <pre class="query-located" aria-label={`The query, with character ${located.position} marked`}>
        {located.before}
        <mark>{located.at || ' '}</mark>
        {located.after}
      </pre>
    </div>
  );
}

export function FilterEditor({ canSave, onSaved }: { canSave: boolean; onSaved(name: string): void }) {
  const [name, setName] = useState('');
  const [query, setQuery] = useState('');
  const [preview, setPreview] = useState<Preview | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [errorQuery, setErrorQuery] = useState('');
  const [busy, setBusy] = useState(false);
  const located = locateQueryError(error, errorQuery);
  // A preview belongs to the text it was made for: a changed query needs a new one before saving.
  const previewed = preview !== null && preview.query === query;

  const run = async (action: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    try {
      await action();
    } catch (err) {
      setErrorQuery(query);
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  const doPreview = () =>
    run(async () => {
      setPreview(null);
      const p = await api.call(matchPreview, 'POST', '/v1/filters/preview', { body: { query } });
      setPreview({ query, ...p });
    });
  const save = () =>
    run(async () => {
      const made = await api.call(savedFilter, 'POST', '/v1/filters', { body: { name: name.trim(), query } });
      setName('');
      setQuery('');
      setPreview(null);
      onSaved(made.name);
    });

  return (
    <form
      class="card form-stack fleet-form"
      aria-label="New saved filter"
      onSubmit={(e) => {
        e.preventDefault();
        void (previewed ? save() : doPreview());
      }}
    >
      <Field label="Fleet query" id="f-query">
        <textarea
          id="f-query"
          rows={3}
          value={query}
          spellcheck={false}
          placeholder={'model = "PAX-A920" and fw < "2.1.0" and not online'}
          onInput={(e) => setQuery(inputText(e))}
        />
      </Field>
      <p class="hint">
        The language is in docs/groups-and-filters.md: <code>serial ~ "PAX-00"</code>, <code>label.region in ("north", "south")</code>,{' '}
        <code>lastSeen &gt; 7d</code>. Preview first: saving needs a preview of the query as it is typed.
      </p>
      <div class="actions">
        <button type="button" class="btn" disabled={busy || !query.trim()} onClick={() => void doPreview()}>
          Preview
        </button>
      </div>
      {located ? <QueryProblem located={located} /> : error ? <ErrorBox error={error} /> : null}
      {previewed ? (
        <div class="filter-preview" aria-live="polite" data-count={preview.count}>
          <p>
            <strong>{fmtNumber(preview.count)}</strong> terminals match now. Read as <code>{preview.canonical}</code>
          </p>
          {preview.sample.length ? (
            <ul class="chips" aria-label="First matching terminals">
              {preview.sample.map((d) => (
                <li class="chip">
                  <a href={`/ui/devices/${encodeURIComponent(d.id)}`}>{d.serial}</a>
                </li>
              ))}
            </ul>
          ) : (
            <p class="muted">No terminal matches yet; a saved filter is evaluated again on every use.</p>
          )}
        </div>
      ) : null}
      {canSave ? (
        <>
          <Field label="Filter name" id="f-name">
            <input id="f-name" value={name} maxLength={100} onInput={(e) => setName(inputText(e))} />
          </Field>
          <button type="button" class="btn btn-primary" disabled={busy || !previewed || !name.trim()} onClick={() => void save()}>
            Save filter
          </button>
        </>
      ) : null}
    </form>
  );
}
