/** @jsxImportSource preact */
// The dual-control queue (GET /v1/key-vault/requests, the newest 200): who asked what and why, and
// for admins Approve / Reject. The server refuses the requester deciding their own request
// (403 dual_control); the queue shows that refusal with its code rather than hiding the buttons,
// so a custodian sees why their own request waits for someone else.
import { useEffect, useState } from 'preact/hooks';
import { z } from 'zod';
import { UserPageSchema } from '../../../../server/auth/userSchemas.ts';
import { keyApproval } from '../../../../server/keys/keySchemas.ts';
import { api } from '../../session.ts';
import { ErrorBox, Pager, StateBadge, Table, Time } from '../../ui.tsx';
import type { Me, ViewContext } from '../../viewContract.ts';
import { actionLabels, describeRequest, takesComponent } from './dualControlText.ts';
import { pageOfList } from './pageOfList.ts';

const requestList = z.object({ items: z.array(keyApproval) });
type Request = z.infer<typeof keyApproval>;
const PAGE = 20;

/** Admins may list users: requesters by name. Others see the user id. */
function useUserNames(me: Me) {
  const [names, setNames] = useState<Map<string, string>>(new Map());
  useEffect(() => {
    if (me.role !== 'admin') return;
    api.call(UserPageSchema, 'GET', '/v1/users', { query: { limit: 500 } }).then(
      (p) => setNames(new Map(p.items.map((u) => [u.id, u.name]))),
      () => undefined, // names are a convenience: the ids stay shown
    );
  }, [me.id]);
  return (id: string | null) => (id === null ? '—' : id === me.id ? 'you' : (names.get(id) ?? id));
}

export function DualControlQueue({ ctx, me, onDecided }: { ctx: ViewContext; me: Me; onDecided(): void }) {
  const [items, setItems] = useState<Request[] | null>(null);
  const [listError, setListError] = useState<unknown>(null);
  const [error, setError] = useState<unknown>(null);
  const [pendingOnly, setPendingOnly] = useState(true);
  const [index, setIndex] = useState(0);
  const [busy, setBusy] = useState<string | null>(null);
  const [nonce, setNonce] = useState(0);
  const nameOf = useUserNames(me);

  useEffect(() => {
    api.call(requestList, 'GET', '/v1/key-vault/requests').then((r) => {
      setItems(r.items);
      setListError(null);
    }, setListError);
  }, [nonce]);

  const decide = async (r: Request, verb: 'approve' | 'reject') => {
    const label = verb === 'approve' ? 'Approve' : 'Reject';
    const body = document.createElement('div');
    body.className = 'form-stack';
    body.append(
      Object.assign(document.createElement('p'), {
        textContent: `${actionLabels[r.action]}: ${describeRequest(r)} Reason given: “${r.reason}”.`,
      }),
    );
    const component = Object.assign(document.createElement('input'), {
      id: 'dc-component',
      type: 'password',
      autocomplete: 'off',
      spellcheck: false,
    });
    if (verb === 'approve' && takesComponent(r.action))
      body.append(
        Object.assign(document.createElement('label'), { htmlFor: component.id, textContent: 'Key component 2 (hex)' }),
        component,
      );
    if (
      !(await ctx.confirm({
        title: `${label} this ${actionLabels[r.action].toLowerCase()}?`,
        body,
        confirmLabel: label,
        danger: verb === 'approve',
      }))
    )
      return;
    const typed = component.value.trim();
    component.value = '';
    setBusy(r.id);
    setError(null);
    try {
      const decided = await api.call(keyApproval, 'POST', `/v1/key-vault/requests/${encodeURIComponent(r.id)}/${verb}`, {
        body: verb === 'approve' && typed ? { component: typed } : undefined,
      });
      ctx.toast(`${actionLabels[r.action]}: ${decided.state}`, 'success');
      ctx.announce(`${actionLabels[r.action]} ${verb === 'approve' ? 'approved' : 'rejected'}`);
      onDecided();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(null);
      setNonce((n) => n + 1);
    }
  };

  const shownAll = (items ?? []).filter((r) => !pendingOnly || r.state === 'pending');
  const shown = pageOfList(shownAll, index, PAGE);
  const isAdmin = me.role === 'admin';

  return (
    <section aria-labelledby="dual-title">
      <h2 id="dual-title">Dual-control requests</h2>
      <p class="muted">
        Master-key, BDK and bulk-revocation operations wait here until a second admin decides; the admin who asked cannot.
        {isAdmin ? null : ' Decisions need the admin role; you can see what is waiting.'}
      </p>
      <label class="check">
        <input
          type="checkbox"
          checked={pendingOnly}
          onChange={(e) => {
            setPendingOnly(e.currentTarget.checked);
            setIndex(0);
          }}
        />{' '}
        Pending only
      </label>
      {listError ? <ErrorBox error={listError} /> : null}
      {error ? <ErrorBox error={error} /> : null}
      {items ? (
        <Table
          caption="Dual-control requests"
          className="dual-control-table"
          head={['Action', 'What', 'Reason', 'Requested by', 'Asked', 'State', '']}
          empty={
            pendingOnly
              ? 'Nothing waits for a second admin. An admin files a request with POST /v1/key-vault/requests (docs/keys.md, Dual control).'
              : 'No dual-control request yet.'
          }
        >
          {shown.items.map((r) => (
            <tr key={r.id} data-request-id={r.id} data-state={r.state}>
              <td>{actionLabels[r.action]}</td>
              <td>{describeRequest(r)}</td>
              <td>{r.reason}</td>
              <td>{nameOf(r.requestedBy)}</td>
              <td>
                <Time iso={r.createdAt} />
              </td>
              <td>
                <StateBadge state={r.state} />
              </td>
              <td>
                {isAdmin && r.state === 'pending' ? (
                  <div class="row-actions">
                    <button type="button" class="btn btn-small btn-primary" disabled={busy === r.id} onClick={() => decide(r, 'approve')}>
                      Approve
                    </button>
                    <button
                      type="button"
                      class="btn btn-small btn-danger-outline"
                      disabled={busy === r.id}
                      onClick={() => decide(r, 'reject')}
                    >
                      Reject
                    </button>
                    {r.requestedBy === me.id ? <span class="muted small">yours: another admin decides</span> : null}
                  </div>
                ) : r.decidedBy ? (
                  <span class="muted small">by {nameOf(r.decidedBy)}</span>
                ) : null}
              </td>
            </tr>
          ))}
        </Table>
      ) : null}
      <Pager label="Pages of dual-control requests" index={index} hasNext={shown.hasNext} go={setIndex} />
    </section>
  );
}
