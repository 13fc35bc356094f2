/** @jsxImportSource preact */
// The device page's lists: open faults, diagnostics runs, log bundles, recent commands, timeline.
import { StateBadge, Table, Time } from '../../ui.tsx';
import { diagVerdict, type Command, type DiagnosticsRun, type Fault, type LogBundle, type TimelineEntry } from './deviceData.ts';

const DIAG_SHOWN = 5;

/** A diagnostics run as one badge: the self-test's verdict once there is one, else the command's state. */
export function DiagOutcome({ run }: { run: DiagnosticsRun }) {
  const verdict = diagVerdict(run);
  if (!verdict) return <StateBadge state={run.state} />;
  return (
    <span class={`badge state state-${verdict.outcome}`} data-outcome={verdict.outcome}>
      {verdict.label}
    </span>
  );
}

export function FaultList({ faults, deviceId }: { faults: Fault[]; deviceId: string }) {
  return (
    <>
      <Table
        caption="Unresolved faults of this terminal"
        head={['Severity', 'Fault', 'State', 'Opened', 'Assignee']}
        empty="No open fault."
      >
        {faults.map((f) => (
          <tr data-fault-id={f.id} data-code={f.code}>
            <td>
              <span class={`badge sev sev-${f.severity}`}>{f.severity}</span>
            </td>
            <td>
              {f.title}
              {f.detail ? <div class="muted small">{f.detail}</div> : null}
            </td>
            <td>
              <StateBadge state={f.state} />
            </td>
            <td>
              <Time iso={f.openedAt} />
            </td>
            <td>{f.assigneeName ?? f.assigneeId ?? '—'}</td>
          </tr>
        ))}
      </Table>
      {faults.length ? (
        <p>
          <a href={`/ui/faults?deviceId=${encodeURIComponent(deviceId)}`}>Handle these in the fault queue</a>
        </p>
      ) : null}
    </>
  );
}

export function DiagnosticsList({ runs }: { runs: DiagnosticsRun[] }) {
  if (!runs.length) return <p class="muted">No self-test run yet.</p>;
  return (
    <ul class="plain-list">
      {runs.slice(0, DIAG_SHOWN).map((d) => (
        <li class="diag" data-cmd-id={d.cmdId}>
          <div>
            <DiagOutcome run={d} />
            {d.passed === null ? null : <span class="muted small"> command {d.state.replace(/_/g, ' ')}</span>} <Time iso={d.requestedAt} />
          </div>
          {Object.keys(d.components).length ? (
            <ul class="chips">
              {Object.entries(d.components).map(([k, v]) => (
                <li class={`chip chip-${v}`}>
                  {k}: {v}
                </li>
              ))}
            </ul>
          ) : null}
          {d.error ? (
            <p class="form-error">
              {d.error.code}: {d.error.message}
            </p>
          ) : null}
        </li>
      ))}
    </ul>
  );
}

export function LogBundleList({ bundles, download }: { bundles: LogBundle[]; download(b: LogBundle, path: string): void }) {
  if (!bundles.length) return <p class="muted">No log bundle requested yet.</p>;
  return (
    <ul class="plain-list">
      {bundles.map((b) => (
        <li>
          <StateBadge state={b.state} /> <Time iso={b.requestedAt} />
          {b.sizeBytes ? ` · ${Math.ceil(b.sizeBytes / 1024)} KiB` : ''}{' '}
          {b.downloadPath ? (
            <button type="button" class="btn btn-small" onClick={() => b.downloadPath && download(b, b.downloadPath)}>
              Download
            </button>
          ) : null}
        </li>
      ))}
    </ul>
  );
}

const progressOf = (c: Command): string => {
  const pct = c.progress !== null && c.progress !== undefined ? `${c.progress}%` : null;
  if (c.stage) return pct ? `${c.stage} ${pct}` : c.stage;
  return pct ?? '—';
};

/** `diagByCmd`: the self-test outcome beside a diag.run's state, so a row never says "succeeded" beside a failed test unnoticed. */
export function CommandList({ commands, diagByCmd }: { commands: Command[]; diagByCmd: Map<string, DiagnosticsRun> }) {
  return (
    <Table caption="Recent commands" head={['Command', 'State', 'Progress', 'Issued', 'Result']} empty="No command sent yet.">
      {commands.map((c) => {
        const run = c.type === 'diag.run' ? diagByCmd.get(c.id) : undefined;
        return (
          <tr data-cmd-id={c.id} data-type={c.type}>
            <td>
              <code>{c.type}</code>
            </td>
            <td>
              <StateBadge state={c.state} />
              {run && run.passed !== null ? [' ', <DiagOutcome run={run} />] : null}
            </td>
            <td>{progressOf(c)}</td>
            <td>
              <Time iso={c.issuedAt} />
            </td>
            <td class="small">
              {c.error ? `${c.error.code}: ${c.error.message}` : c.result ? JSON.stringify(c.result).slice(0, 120) : '—'}
            </td>
          </tr>
        );
      })}
    </Table>
  );
}

export function Timeline({ entries }: { entries: TimelineEntry[] }) {
  return (
    <ol class="timeline">
      {entries.length ? (
        entries.map((e) => (
          <li class={`tl tl-${e.kind.replace(/[^a-z_]/g, '')}`} data-kind={e.kind}>
            <span class="tl-kind">{e.kind.replace(/_/g, ' ')}</span>
            <span class="tl-summary">{e.summary}</span>
            <Time iso={e.ts} />
          </li>
        ))
      ) : (
        <li class="muted">Nothing has happened to this terminal yet.</li>
      )}
    </ol>
  );
}
