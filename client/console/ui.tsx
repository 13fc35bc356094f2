/** @jsxImportSource preact */
// Shared pieces of the console's pages, the same markup (classes, data attributes) the CSS and the
// browser tests know: tables that scroll sideways, badges, times, filter bars, error boxes.
import type { ComponentChildren } from 'preact';
import { useId } from 'preact/hooks';
import { ApiError } from '../apiClient.ts';

const rtf = new Intl.RelativeTimeFormat('en', { numeric: 'auto' });
const dtf = new Intl.DateTimeFormat('en-GB', { dateStyle: 'medium', timeStyle: 'medium' });
const nf = new Intl.NumberFormat('en');

export const fmtNumber = (n: number | null | undefined) => (typeof n === 'number' ? nf.format(n) : '—');
export const fmtDate = (iso: string | null | undefined) => (iso ? dtf.format(new Date(iso)) : '—');

export function fmtAgo(iso: string | null | undefined): string {
  if (!iso) return '—';
  const ms = new Date(iso).getTime() - Date.now();
  const abs = Math.abs(ms);
  if (abs < 45_000) return 'just now';
  if (abs < 3600_000) return rtf.format(Math.round(ms / 60_000), 'minute');
  if (abs < 86_400_000) return rtf.format(Math.round(ms / 3600_000), 'hour');
  return rtf.format(Math.round(ms / 86_400_000), 'day');
}

export function Time({ iso }: { iso: string | null | undefined }) {
  if (!iso) return <span class="muted">—</span>;
  return (
    <time dateTime={new Date(iso).toISOString()} title={fmtDate(iso)}>
      {fmtAgo(iso)}
    </time>
  );
}

export function StateBadge({ state }: { state: string }) {
  return <span class={`badge state state-${state.replace(/[^a-z_]/g, '')}`}>{state.replace(/_/g, ' ')}</span>;
}

/** Presence; a terminal with no last-seen time never connected: "not yet connected", not "offline". */
export function OnlineBadge({ online, everSeen = true }: { online: boolean; everSeen?: boolean }) {
  const presence = online ? 'online' : everSeen ? 'offline' : 'never';
  return (
    <span class={`badge ${presence}`} data-online={String(online)} data-presence={presence}>
      {presence === 'never' ? 'not yet connected' : presence}
    </span>
  );
}

export function Table(props: {
  caption: string;
  head: string[];
  className?: string;
  empty?: ComponentChildren;
  children: ComponentChildren[];
}) {
  const { caption, head, className = '', empty = 'Nothing to show.', children } = props;
  return (
    <div class="table-wrap" role="region" aria-label={caption} tabIndex={0}>
      <table class={`table ${className}`}>
        <caption class="visually-hidden">{caption}</caption>
        <thead>
          <tr>
            {head.map((c) => (
              <th scope="col">{c}</th>
            ))}
          </tr>
        </thead>
        <tbody>
          {children.length ? (
            children
          ) : (
            <tr>
              <td colSpan={head.length} class="empty">
                {empty}
              </td>
            </tr>
          )}
        </tbody>
      </table>
    </div>
  );
}

/** The value of the input, text area or select an event came from ('' from anything else). */
export const inputText = (e: Event): string =>
  e.currentTarget instanceof HTMLInputElement || e.currentTarget instanceof HTMLTextAreaElement || e.currentTarget instanceof HTMLSelectElement
    ? e.currentTarget.value
    : '';

export function Field({ label, id, children }: { label: string; id: string; children: ComponentChildren }) {
  return (
    <div class="field">
      <label for={id}>{label}</label>
      {children}
    </div>
  );
}

/** The filter bar above a list: its fields, then Apply and Clear. */
export function FilterForm(props: { label: string; onApply(): void; onClear(): void; children: ComponentChildren }) {
  return (
    <form
      class="filters card"
      role="search"
      aria-label={props.label}
      onSubmit={(e) => {
        e.preventDefault();
        props.onApply();
      }}
      onReset={(e) => {
        e.preventDefault();
        props.onClear();
      }}
    >
      {props.children}
      <div class="field field-actions">
        <button type="submit" class="btn btn-primary">
          Apply
        </button>
        <button type="reset" class="btn">
          Clear
        </button>
      </div>
    </form>
  );
}

/** An API refusal shows its stable code beside the message: the code is what docs and support name. */
export function ErrorBox({ error }: { error: unknown }) {
  const code = error instanceof ApiError ? error.code : undefined;
  return (
    <p class="form-error" role="alert" data-code={code}>
      {code ? <code class="error-code">{code}</code> : null}
      {code ? ' ' : null}
      {error instanceof Error ? error.message : String(error)}
    </p>
  );
}

/** Previous / page n / Next over cursor pages. */
export function Pager(props: { label: string; index: number; hasNext: boolean; go(index: number): void }) {
  return (
    <nav class="pager" aria-label={props.label}>
      <button type="button" class="btn" disabled={props.index === 0} onClick={() => props.go(props.index - 1)}>
        ← Previous
      </button>
      <span class="muted">Page {props.index + 1}</span>
      <button type="button" class="btn" disabled={!props.hasNext} onClick={() => props.go(props.index + 1)}>
        Next →
      </button>
    </nav>
  );
}

/** A card with a heading (h2) that labels it, as every section of the overview and device pages is. */
export function Section({ title, children }: { title: string; children: ComponentChildren }) {
  const id = useId();
  return (
    <section class="card" aria-labelledby={id}>
      <h2 id={id}>{title}</h2>
      {children}
    </section>
  );
}

/** What a build without this part's route shows in its place. */
export function Unavailable({ what }: { what: string }) {
  return (
    <p class="unavailable" data-unavailable={what}>
      {what}: not available in this build.
    </p>
  );
}
