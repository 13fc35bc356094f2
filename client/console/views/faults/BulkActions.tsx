/** @jsxImportSource preact */
// Bulk triage over the selected rows: acknowledge at once, resolve after confirmation (with one
// closing note for all), then a summary of what was done and each refusal with its code.
import { useState } from 'preact/hooks';
import { fault } from '../../../../server/faults/faultSchemas.ts';
import { api } from '../../session.ts';
import type { ViewContext } from '../../viewContract.ts';
import { bulkSummary, runBulk, type BulkOutcome } from './bulkTriage.ts';
import { where, type ListedFault } from './faultView.ts';
import { askResolve } from './resolveDialog.ts';

const faultPath = (f: ListedFault, action: string) => `/v1/faults/${encodeURIComponent(f.id)}/${action}`;

export function BulkActions(props: { ctx: ViewContext; selected: ListedFault[]; canTriage: boolean; onDone(done: ListedFault[]): void }) {
  const { ctx, selected } = props;
  const [running, setRunning] = useState(false);
  const [result, setResult] = useState<{ verb: string; outcome: BulkOutcome<ListedFault> } | null>(null);
  const n = selected.length;
  const plural = n === 1 ? 'fault' : 'faults';

  async function run(verb: string, act: (f: ListedFault) => Promise<unknown>) {
    // The previous action's summary goes: it must not stand beside a list the new one is changing.
    setResult(null);
    setRunning(true);
    try {
      const outcome = await runBulk(selected, act);
      setResult({ verb, outcome });
      ctx.announce(bulkSummary(verb, outcome));
      props.onDone(outcome.done);
    } finally {
      setRunning(false);
    }
  }
  const acknowledge = () => run('Acknowledged', (f) => api.call(fault, 'POST', faultPath(f, 'acknowledge')));
  async function resolve() {
    const note = await askResolve(ctx, {
      title: `Resolve ${n} ${plural}?`,
      text: `The ${plural} selected on this page will be resolved. A condition still there opens a new fault.`,
      confirmLabel: `Resolve ${n} ${plural}`,
    });
    if (note === null) return;
    await run('Resolved', (f) => api.call(fault, 'POST', faultPath(f, 'resolve'), { body: note ? { note } : {} }));
  }

  return (
    <div class="bulk-actions">
      <div class="toolbar" role="group" aria-label="Bulk actions">
        <span class="muted" data-selected={n}>
          {n} selected
        </span>
        <button type="button" class="btn btn-small" disabled={!n || running || !props.canTriage} onClick={acknowledge}>
          Acknowledge selected
        </button>
        <button type="button" class="btn btn-small" disabled={!n || running || !props.canTriage} onClick={resolve}>
          Resolve selected
        </button>
      </div>
      {result ? (
        <div class="bulk-summary card" role="status" data-done={result.outcome.done.length} data-failed={result.outcome.failed.length}>
          <p>{bulkSummary(result.verb, result.outcome)}</p>
          {result.outcome.failed.length ? (
            <ul>
              {result.outcome.failed.map((x) => (
                <li data-code={x.code}>
                  <code class="error-code">{x.code}</code> {where(x.item)}: {x.message}
                </li>
              ))}
            </ul>
          ) : null}
          <button type="button" class="btn btn-small btn-quiet" onClick={() => setResult(null)}>
            Dismiss
          </button>
        </div>
      ) : null}
    </div>
  );
}
