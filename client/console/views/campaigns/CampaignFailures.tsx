/** @jsxImportSource preact */
// Why terminals failed: the campaign's failed, rolled-back and timed-out members counted by
// error.code, each with an example message; picking a code filters the terminal list by it.
import { useEffect, useState } from 'preact/hooks';
import type { z } from 'zod';
import { api } from '../../session.ts';
import { ErrorBox, Table, fmtNumber } from '../../ui.tsx';
import { campaignPath, failuresView, type CampaignKindUi } from './campaignKinds.ts';

export function CampaignFailures(props: { kind: CampaignKindUi; id: string; reloadKey: number; onPick(code: string): void }) {
  const [failures, setFailures] = useState<z.infer<typeof failuresView> | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    api
      .call(failuresView, 'GET', `${campaignPath(props.kind, props.id)}/failures`)
      .then((f) => {
        setFailures(f);
        setError(null);
      })
      .catch(setError);
  }, [props.kind, props.id, props.reloadKey]);

  return (
    <section class="card" aria-labelledby="h-failures">
      <h2 id="h-failures">Failures by reason</h2>
      {error ? (
        <ErrorBox error={error} />
      ) : !failures ? (
        <p class="loading">Loading…</p>
      ) : (
        <>
          <p class="small" data-failures-total={String(failures.total)}>
            {failures.total ? `${fmtNumber(failures.total)} terminals failed, rolled back or timed out.` : 'No terminal has failed.'}
          </p>
          {failures.total ? (
            <Table
              caption="Failures by error code"
              className="failures-table table-compact"
              head={['Error code', 'Terminals', 'Example message']}
            >
              {failures.byCode.map((f) => (
                <tr key={f.code} class="failure-row" data-code={f.code} data-count={String(f.count)}>
                  <td>
                    <button
                      type="button"
                      class="btn btn-small btn-quiet"
                      aria-label={`Show the terminals that failed with ${f.code}`}
                      onClick={() => props.onPick(f.code)}
                    >
                      <code>{f.code}</code>
                    </button>
                  </td>
                  <td>{fmtNumber(f.count)}</td>
                  <td>{f.message}</td>
                </tr>
              ))}
            </Table>
          ) : null}
        </>
      )}
    </section>
  );
}
