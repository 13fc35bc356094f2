/** @jsxImportSource preact */
// Merchants waiting for review (status pending_review): an admin other than the one who filed it
// approves (its terminals can then be bound) or rejects with a reason. The creator's own rows say
// why their buttons are off (the server refuses them too).
import { useState } from 'preact/hooks';
import type { z } from 'zod';
import { page as pageOf } from '../../../../server/http/schemas.ts';
import { merchantOut } from '../../../../server/merchants/apiSchemas.ts';
import { api, isRole } from '../../session.ts';
import { ErrorBox, Pager, Table, Time } from '../../ui.tsx';
import { usePaged } from '../../usePaged.ts';
import type { Me, ViewContext } from '../../viewContract.ts';
import { decisionBody } from './decisionDialog.ts';

const PAGE = 25;
const merchantPage = pageOf(merchantOut);
type Merchant = z.infer<typeof merchantOut>;

export function OnboardingReviews({ ctx, me, refresh, onDecided }: { ctx: ViewContext; me: Me; refresh: number; onDecided(): void }) {
  const list = usePaged(
    (cursor) => api.call(merchantPage, 'GET', '/v1/merchants', { query: { status: 'pending_review', limit: PAGE, cursor } }),
    [refresh],
  );
  const [error, setError] = useState<unknown>(null);
  const isAdmin = isRole('admin');

  const decide = async (m: Merchant, verb: 'approve' | 'reject') => {
    const label = verb === 'approve' ? 'Approve' : 'Reject';
    const what =
      verb === 'approve'
        ? `Approve merchant ${m.name} (MID ${m.mid}). Its terminals can then be bound.`
        : `Reject merchant ${m.name} (MID ${m.mid}).`;
    const dialog = decisionBody(what, { id: `review-note-${m.id}`, reasonRequired: verb === 'reject' });
    if (!(await ctx.confirm({ title: `${label} merchant?`, body: dialog.body, confirmLabel: label }))) return;
    const text = dialog.text();
    setError(null);
    try {
      const path = `/v1/merchants/${encodeURIComponent(m.id)}/${verb}`;
      await api.call(merchantOut, 'POST', path, { body: verb === 'reject' ? { reason: text } : text ? { note: text } : {} });
      ctx.toast(`${m.name}: ${label.toLowerCase()}d.`, 'success');
      ctx.announce(`${m.name} ${label.toLowerCase()}d.`);
      onDecided();
    } catch (err) {
      setError(err);
    }
  };

  return (
    <div aria-live="polite" aria-busy={list.busy ? 'true' : 'false'}>
      {error ? <ErrorBox error={error} /> : null}
      {list.error ? (
        <ErrorBox error={list.error} />
      ) : list.page ? (
        <Table
          caption="Merchants waiting for review"
          className="review-table"
          head={['Merchant', 'MID', 'MCC', 'Address', 'Filed', 'Decision']}
          empty="No merchant is waiting for review."
        >
          {list.page.items.map((m) => {
            const why = !isAdmin ? 'needs the admin role' : m.createdBy === me.id ? 'you filed this yourself; another admin decides' : null;
            return (
              <tr key={m.id} data-merchant-id={m.id}>
                <td>
                  <a href={`/ui/merchants/${encodeURIComponent(m.id)}`}>{m.name}</a>
                  <div class="muted small">{m.kind}</div>
                </td>
                <td>
                  <code>{m.mid}</code>
                </td>
                <td>{m.mcc}</td>
                <td>{m.address}</td>
                <td>
                  <Time iso={m.createdAt} />
                </td>
                <td>
                  <div class="row-actions">
                    <button
                      type="button"
                      class="btn btn-small btn-primary"
                      disabled={Boolean(why)}
                      title={why ?? undefined}
                      aria-label={`Approve ${m.name}`}
                      onClick={() => decide(m, 'approve')}
                    >
                      Approve
                    </button>
                    <button
                      type="button"
                      class="btn btn-small btn-danger-outline"
                      disabled={Boolean(why)}
                      title={why ?? undefined}
                      aria-label={`Reject ${m.name}`}
                      onClick={() => decide(m, 'reject')}
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
      <Pager label="Pages of merchants waiting for review" index={list.index} hasNext={list.hasNext} go={list.go} />
    </div>
  );
}
