/** @jsxImportSource preact */
// The overview's building blocks, in the markup app.css and the browser tests know: a number card
// (data-stat), horizontal bar lists (a list named by its caption), titled sections, and the line
// saying a part's API is not in this build.
import type { ComponentChildren } from 'preact';
import { useId } from 'preact/hooks';
import { fmtNumber } from '../../ui.tsx';
import { barWidth, shareText } from './overviewData.ts';

export function Stat(props: { label: string; stat: string; value: number | null | undefined; href?: string; className?: string }) {
  const inner = (
    <>
      <span class="stat-value" data-stat={props.stat}>
        {fmtNumber(props.value)}
      </span>
      <span class="stat-label">{props.label}</span>
    </>
  );
  return (
    <div class={`stat ${props.className ?? ''}`}>
      {props.href ? (
        <a href={props.href} class="stat-link">
          {inner}
        </a>
      ) : (
        inner
      )}
    </div>
  );
}

export interface BarRow {
  key: string;
  label: ComponentChildren;
  /** The label's text on hover, when it may be cut. */
  title?: string;
  count: number;
  href?: string;
  className?: string;
}

/** Rows scaled to the largest; each count's share of `total` is read to screen readers. */
export function Bars({ caption, rows, total }: { caption: string; rows: BarRow[]; total: number }) {
  const max = Math.max(1, ...rows.map((r) => r.count));
  return (
    <ul class="bars" aria-label={caption}>
      {rows.map((r) => (
        <li class="bar-row" key={r.key}>
          <span class="bar-label" title={r.title}>
            {r.href ? <a href={r.href}>{r.label}</a> : r.label}
          </span>
          <span class="bar-track" aria-hidden="true">
            <span class={`bar-fill ${r.className ?? ''}`} style={{ width: `${barWidth(r.count, max)}%` }} />
          </span>
          <span class="bar-count">
            {fmtNumber(r.count)}
            <span class="visually-hidden">{shareText(r.count, total)}</span>
          </span>
        </li>
      ))}
    </ul>
  );
}

export const Loading = () => <p class="loading">Loading…</p>;
