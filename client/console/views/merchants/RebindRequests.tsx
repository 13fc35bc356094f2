/** @jsxImportSource preact */
// Pending re-binding requests (maker-checker): an operator or admin files one, another admin
// approves (old binding closed, the terminal's merchant data and keys wiped, a new binding sent) or
// rejects. The server refuses the requester deciding (dual_control); their own rows say why the
// buttons are off. Reloaded when a binding changes (device.binding) or the stream resumes.
import { useState } from 'preact/hooks';
import type { z } from 'zod';
import { page as pageOf } from '../../../../server/http/schemas.ts';
import { rebindApproval, rebindOut } from '../../../../server/merchants/apiSchemas.ts';
import { useLiveEvents } from '../../live.ts';
import { api, has, isRole } from '../../session.ts';
import { ErrorBox, Pager, Table, Time } from '../../ui.tsx';
import { usePaged } from '../../usePaged.ts';
import type { Me, ViewContext } from '../../viewContract.ts';
import { decisionBody } from './decisionDialog.ts';
import { useNames } from './useNames.ts';

const PAGE = 25;
const rebindPage = pageOf(rebindOut);
type Rebind = z.infer<typeof rebindOut>;

export function RebindRequests(props: { ctx: ViewContext; me: Me; merchantId?: string; refresh?: number; onDecided?(): void }) {
  const { ctx, me, merchantId, onDecided } = props;
  const available = has('GET /v1/rebind-requests');
  const list = usePaged(
    (cursor) =>
      available
        ? api.call(rebindPage, 'GET', '/v1/rebind-requests', { query: { status: 'pending', limit: PAGE, cursor } })
        : Promise.resolve({ items: [], nextCursor: null }),
    [props.refresh],
  );
  const [error, setError] = useState<unknown>(null);
  useLiveEvents((name) => (name === 'device.binding' || name === 'stream.resumed') && list.reload());
  const items = (list.page?.items ?? []).filter((r) => !merchantId || r.merchantId === merchantId || r.fromMerchantId === merchantId);
  const serial = useNames(
    'device',
    items.map((r) => r.deviceId),
  );
  const merchant = useNames(
    'merchant',
    items.flatMap((r) => [r.merchantId, r.fromMerchantId]),
  );
  const isAdmin = isRole('admin');

  const decide = async (r: Rebind, verb: 'approve' | 'reject') => {
    const label = verb === 'approve' ? 'Approve' : 'Reject';
    const what =
      verb === 'approve'
        ? `Re-bind terminal ${serial(r.deviceId)} from ${merchant(r.fromMerchantId)} to ${merchant(r.merchantId)} as TID ${r.tid}. The old binding is closed, merchant data and keys on the terminal are wiped, and a new binding is sent.`
        : `Reject the request to re-bind terminal ${serial(r.deviceId)} to ${merchant(r.merchantId)}. The terminal stays with ${merchant(r.fromMerchantId)}.`;
    const dialog = decisionBody(what, { id: `rebind-note-${r.id}`, reasonRequired: false });
    if (!(await ctx.confirm({ title: `${label} re-binding?`, body: dialog.body, confirmLabel: label, danger: verb === 'approve' }))) return;
    const note = dialog.text();
    setError(null);
    try {
      const path = `/v1/rebind-requests/${encodeURIComponent(r.id)}/${verb}`;
      const opts = { body: note ? { note } : {} };
      if (verb === 'approve') await api.call(rebindApproval, 'POST', path, opts);
      else await api.call(rebindOut, 'POST', path, opts);
      ctx.toast(`${label}d.`, 'success');
      ctx.announce(`${label}d.`);
      onDecided?.();
    } catch (err) {
      setError(err);
    } finally {
      list.reload();
    }
  };

  if (!available)
    return (
      <p class="unavailable" data-unavailable="Re-binding approvals">
        Re-binding approvals: not available in this build.
      </p>
    );
  return (
    <div aria-live="polite" aria-busy={list.busy ? 'true' : 'false'}>
      {error ? <ErrorBox error={error} /> : null}
      {list.error ? (
        <ErrorBox error={list.error} />
      ) : list.page ? (
        <Table
          caption="Pending re-binding requests"
          className="rebind-table"
          head={['Terminal', 'From', 'To', 'TID', 'Reason', 'Requested', 'Decision']}
          empty="No re-binding is waiting for approval."
        >
          {items.map((r) => {
            const why = !isAdmin
              ? 'needs the admin role'
              : r.requestedBy === me.id
                ? 'you filed this yourself; another admin decides'
                : null;
            return (
              <tr key={r.id} data-request-id={r.id}>
                <td>
                  <a href={`/ui/devices/${encodeURIComponent(r.deviceId)}`}>{serial(r.deviceId)}</a>
                </td>
                <td>
                  <a href={`/ui/merchants/${encodeURIComponent(r.fromMerchantId)}`}>{merchant(r.fromMerchantId)}</a>
                </td>
                <td>
                  <a href={`/ui/merchants/${encodeURIComponent(r.merchantId)}`}>{merchant(r.merchantId)}</a>
                </td>
                <td>
                  <code>{r.tid}</code>
                </td>
                <td>{r.reason}</td>
                <td>
                  {r.requestedByName ?? r.requestedBy}
                  <div class="muted small">
                    <Time iso={r.createdAt} />
                  </div>
                </td>
                <td>
                  <div class="row-actions">
                    <button
                      type="button"
                      class="btn btn-small btn-primary"
                      disabled={Boolean(why)}
                      title={why ?? undefined}
                      aria-label={`Approve re-binding of ${serial(r.deviceId)}`}
                      onClick={() => decide(r, 'approve')}
                    >
                      Approve
                    </button>
                    <button
                      type="button"
                      class="btn btn-small btn-danger-outline"
                      disabled={Boolean(why)}
                      title={why ?? undefined}
                      aria-label={`Reject re-binding of ${serial(r.deviceId)}`}
                      onClick={() => decide(r, 'reject')}
                    >
                      Reject
                    </button>
                    {why ? <span class="muted small">{why}</span> : null}
                  </div>
                </td>
              </tr>
            );
          })}
        </Table>
      ) : null}
      <Pager label="Pages of re-binding requests" index={list.index} hasNext={list.hasNext} go={list.go} />
    </div>
  );
}
