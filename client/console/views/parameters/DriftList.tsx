/** @jsxImportSource preact */
// Terminals whose reported parameters differ from the desired set of the template they report
// (GET /v1/parameters/drift, paged by device id, each row with its serial), each opening its desired
// vs reported values key by key with the tier each desired value came from (GET /v1/devices/{id}/parameters).
import { useEffect, useState } from 'preact/hooks';
import type { z } from 'zod';
import { page } from '../../../../server/http/schemas.ts';
import { deviceParametersView, driftItem } from '../../../../server/parameters/parameterSchemas.ts';
import { api } from '../../session.ts';
import { ErrorBox, Pager, Table, Time } from '../../ui.tsx';
import { usePaged } from '../../usePaged.ts';

const PAGE = 50;
const driftPage = page(driftItem);
type Drift = z.infer<typeof driftItem>;
type DeviceParameters = z.infer<typeof deviceParametersView>;

const shown = (v: unknown) => (v === undefined ? '—' : JSON.stringify(v));

/** The terminal's serial, linked to its page (its id on hover). */
function TerminalLink({ d }: { d: Drift }) {
  return (
    <a href={`/ui/devices/${encodeURIComponent(d.deviceId)}`} title={d.deviceId}>
      {d.serial}
    </a>
  );
}

function Comparison({ d }: { d: Drift }) {
  const [params, setParams] = useState<DeviceParameters | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    api
      .call(deviceParametersView, 'GET', `/v1/devices/${encodeURIComponent(d.deviceId)}/parameters`, {
        query: { templateId: d.templateId },
      })
      .then(setParams)
      .catch(setError);
  }, [d.deviceId, d.templateId]);
  if (error) return <ErrorBox error={error} />;
  if (!params) return <p class="loading">Loading…</p>;
  const desired = params.desired?.values ?? {};
  const reported = params.reported?.values ?? {};
  const keys = [...new Set([...Object.keys(desired), ...Object.keys(reported)])].sort();
  const differs = new Set(params.drift?.keys ?? []);
  return (
    <Table
      caption={`Desired and reported parameters of ${d.serial}`}
      className="table-compact comparison-table"
      head={['Key', 'Desired', 'From', 'Reported']}
    >
      {keys.map((k) => {
        const source = params.desired?.sourceOf[k];
        return (
          <tr key={k} data-key={k} data-differs={String(differs.has(k))}>
            <td>
              <code>{k}</code>
            </td>
            <td>{shown(desired[k])}</td>
            <td>{source ? `${source.tier}${source.tier === 'default' ? '' : ` ${source.id}`}` : '—'}</td>
            <td>{shown(reported[k])}</td>
          </tr>
        );
      })}
    </Table>
  );
}

export function DriftList({ refresh }: { refresh: number }) {
  const list = usePaged((cursor) => api.call(driftPage, 'GET', '/v1/parameters/drift', { query: { limit: PAGE, cursor } }), [refresh]);
  const [open, setOpen] = useState<string | null>(null);
  return (
    <section aria-labelledby="drift-title">
      <h2 id="drift-title">Drift</h2>
      <p class="muted">
        Terminals whose reported set differs from the desired set of the template version they report. The cure is a new push (below); a
        terminal that stays apart raises the fault <code>parameters_drift</code>.
      </p>
      <div class="actions">
        <button type="button" class="btn" onClick={list.reload}>
          Check again
        </button>
      </div>
      <div aria-live="polite" aria-busy={list.busy ? 'true' : 'false'}>
        {list.error ? (
          <ErrorBox error={list.error} />
        ) : list.page ? (
          <Table
            caption="Terminals that drift"
            className="drift-table"
            head={['Terminal', 'Template', 'Keys that differ', 'Reported', '']}
            empty="No terminal drifts: every terminal that reports parameters reports its desired set."
          >
            {list.page.items.flatMap((d) => [
              <tr key={d.deviceId} data-device-id={d.deviceId}>
                <td>
                  <TerminalLink d={d} />
                </td>
                <td>
                  <code>{d.templateId}</code> v{d.version}
                  {d.templateMismatch ? <span class="badge state-paused"> another version</span> : null}
                </td>
                <td>{d.keys.length ? d.keys.map((k) => <code class="chip">{k}</code>) : '—'}</td>
                <td>
                  <Time iso={d.reportedAt} />
                </td>
                <td>
                  <button
                    type="button"
                    class="btn btn-small"
                    aria-expanded={open === d.deviceId}
                    onClick={() => setOpen(open === d.deviceId ? null : d.deviceId)}
                  >
                    {open === d.deviceId ? 'Hide values' : 'Compare values'}
                  </button>
                </td>
              </tr>,
              ...(open === d.deviceId
                ? [
                    <tr key={`${d.deviceId}-values`} class="drift-values">
                      <td colSpan={5}>
                        <Comparison d={d} />
                      </td>
                    </tr>,
                  ]
                : []),
            ])}
          </Table>
        ) : null}
      </div>
      <Pager label="Pages of drifting terminals" index={list.index} hasNext={list.hasNext} go={list.go} />
    </section>
  );
}
