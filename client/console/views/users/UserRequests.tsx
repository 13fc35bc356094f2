/** @jsxImportSource preact */
// User requests: admins that wait for a second admin. Another admin approves (the user is created
// and its first token shown once, to the approver) or rejects; the requester deciding alone is
// refused by the server (`dual_control`), so the requester's own rows offer no decision.
import { useState } from 'preact/hooks';
import { z } from 'zod';
import { CreatedUserSchema, UserRequestPageSchema, UserRequestSchema } from '../../../../server/auth/userSchemas.ts';
import { api } from '../../session.ts';
import { ErrorBox, Pager, StateBadge, Table, Time } from '../../ui.tsx';
import { usePaged } from '../../usePaged.ts';
import type { Me, ViewContext } from '../../viewContract.ts';
import { TokenReveal } from './TokenReveal.tsx';

const PAGE = 25;

type Created = z.infer<typeof CreatedUserSchema>;

export function UserRequests({ ctx, me, refresh, onDecided }: { ctx: ViewContext; me: Me; refresh: number; onDecided(): void }) {
  const list = usePaged(
    (cursor) => api.call(UserRequestPageSchema, 'GET', '/v1/user-requests', { query: { limit: PAGE, cursor } }),
    [refresh],
  );
  const [error, setError] = useState<unknown>(null);
  const [created, setCreated] = useState<Created | null>(null);
  const [busy, setBusy] = useState<string | null>(null);

  const decide = async (id: string, name: string, decision: 'approve' | 'reject') => {
    setBusy(id);
    setError(null);
    try {
      if (decision === 'approve') {
        setCreated(await api.call(CreatedUserSchema, 'POST', `/v1/user-requests/${encodeURIComponent(id)}/approve`));
        ctx.toast(`${name} is created`, 'success');
      } else {
        await api.call(UserRequestSchema, 'POST', `/v1/user-requests/${encodeURIComponent(id)}/reject`);
        ctx.toast(`The request for ${name} is rejected`);
      }
      onDecided();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(null);
      list.reload();
    }
  };

  return (
    <section aria-labelledby="requests-title">
      <h2 id="requests-title">User requests</h2>
      {error ? <ErrorBox error={error} /> : null}
      {created ? <TokenReveal token={created.token} owner={created.name} onDismiss={() => setCreated(null)} /> : null}
      <div aria-live="polite" aria-busy={list.busy ? 'true' : 'false'}>
        {list.error ? (
          <ErrorBox error={list.error} />
        ) : list.page ? (
          <Table
            caption="User requests"
            className="requests-table"
            head={['Name', 'Role', 'State', 'Requested by', 'Asked', 'Expires', '']}
            empty="No user request. A new admin, while two admins are enabled, waits here for a second admin."
          >
            {list.page.items.map((r) => (
              <tr key={r.id} data-request-id={r.id}>
                <td>{r.name}</td>
                <td>{r.role}</td>
                <td>
                  <StateBadge state={r.state} />
                </td>
                <td>{r.requestedBy === me.id ? 'you' : r.requestedBy}</td>
                <td>
                  <Time iso={r.createdAt} />
                </td>
                <td>
                  <Time iso={r.expiresAt} />
                </td>
                <td>
                  {r.state === 'pending' && r.requestedBy === me.id ? (
                    <span class="muted">yours: another admin decides</span>
                  ) : r.state === 'pending' ? (
                    <div class="row-actions">
                      <button
                        type="button"
                        class="btn btn-small btn-primary"
                        disabled={busy === r.id}
                        onClick={() => decide(r.id, r.name, 'approve')}
                      >
                        Approve
                      </button>
                      <button
                        type="button"
                        class="btn btn-small btn-danger-outline"
                        disabled={busy === r.id}
                        onClick={() => decide(r.id, r.name, 'reject')}
                      >
                        Reject
                      </button>
                    </div>
                  ) : null}
                </td>
              </tr>
            ))}
          </Table>
        ) : null}
      </div>
      <Pager label="Pages of user requests" index={list.index} hasNext={list.hasNext} go={list.go} />
      <p class="hint">Newest first, decided ones included.</p>
    </section>
  );
}
