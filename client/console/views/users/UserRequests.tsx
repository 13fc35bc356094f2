/** @jsxImportSource preact */
// User requests: admins that wait for a second admin. Another admin approves (the user is created
// and its first token shown once, to the approver) or rejects; the requester deciding alone is
// refused by the server (`dual_control`), so the requester's own rows offer no decision.
import { useEffect, useState } from 'preact/hooks';
import { z } from 'zod';
import { UserRequestListSchema } from '../../../../server/auth/userRequestRoutes.ts';
import { CreatedUserSchema, UserRequestSchema } from '../../../../server/auth/userSchemas.ts';
import { api } from '../../session.ts';
import { ErrorBox, StateBadge, Table, Time } from '../../ui.tsx';
import type { Me, ViewContext } from '../../viewContract.ts';
import { TokenReveal } from './TokenReveal.tsx';

const SHOWN = 50; // the route keeps no cursor: its newest requests

type Created = z.infer<typeof CreatedUserSchema>;

export function UserRequests({ ctx, me, refresh, onDecided }: { ctx: ViewContext; me: Me; refresh: number; onDecided(): void }) {
  const [items, setItems] = useState<z.infer<typeof UserRequestSchema>[] | null>(null);
  const [listError, setListError] = useState<unknown>(null);
  const [error, setError] = useState<unknown>(null);
  const [created, setCreated] = useState<Created | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const [nonce, setNonce] = useState(0);

  useEffect(() => {
    api
      .call(UserRequestListSchema, 'GET', '/v1/user-requests', { query: { limit: SHOWN } })
      .then((r) => {
        setItems(r.items);
        setListError(null);
      })
      .catch(setListError);
  }, [refresh, nonce]);

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
      setNonce((n) => n + 1);
    }
  };

  return (
    <section aria-labelledby="requests-title">
      <h2 id="requests-title">User requests</h2>
      {listError ? <ErrorBox error={listError} /> : null}
      {error ? <ErrorBox error={error} /> : null}
      {created ? <TokenReveal token={created.token} owner={created.name} onDismiss={() => setCreated(null)} /> : null}
      {items ? (
        <Table
          caption="User requests"
          className="requests-table"
          head={['Name', 'Role', 'State', 'Requested by', 'Asked', 'Expires', '']}
          empty="No user request. A new admin, while two admins are enabled, waits here for a second admin."
        >
          {items.map((r) => (
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
      <p class="hint">The {SHOWN} newest requests, decided ones included.</p>
    </section>
  );
}
