/** @jsxImportSource preact */
// Users and tokens: a token for oneself (any role; a token reaches only its owner), and for admins
// the users of their subtree with role and state, creating one, disabling one (confirmed), and the
// user requests that wait for a second admin.
import { useEffect, useState } from 'preact/hooks';
import { z } from 'zod';
import { MeSchema } from '../../../../server/auth/meSchema.ts';
import { DisabledUserSchema, IssuedTokenSchema, UserPageSchema } from '../../../../server/auth/userSchemas.ts';
import { api } from '../../session.ts';
import { ErrorBox, Pager, StateBadge, Table, Time } from '../../ui.tsx';
import { usePaged } from '../../usePaged.ts';
import type { Me, ViewContext } from '../../viewContract.ts';
import { CreateUserForm } from './CreateUserForm.tsx';
import { TokenReveal } from './TokenReveal.tsx';
import { UserRequests } from './UserRequests.tsx';

const PAGE = 50;
type User = z.infer<typeof UserPageSchema>['items'][number];

function OwnToken({ me }: { me: Me }) {
  const [token, setToken] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const issue = async () => {
    setBusy(true);
    setError(null);
    try {
      setToken((await api.call(IssuedTokenSchema, 'POST', `/v1/users/${encodeURIComponent(me.id)}/tokens`)).token);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <section class="card" aria-labelledby="own-token-title">
      <h2 id="own-token-title">Your API tokens</h2>
      <p class="muted">
        A new token for yourself ({me.name}, {me.role}), e.g. for the CLI or a second machine. Older tokens stay valid. Nobody, not even an
        admin, can obtain a token of another user.
      </p>
      <div class="actions">
        <button type="button" class="btn btn-primary" disabled={busy} onClick={issue}>
          Issue a new token for me
        </button>
      </div>
      {error ? <ErrorBox error={error} /> : null}
      {token ? <TokenReveal token={token} owner={me.name} onDismiss={() => setToken(null)} /> : null}
    </section>
  );
}

function UserList({ ctx, me, refresh, onChanged }: { ctx: ViewContext; me: Me; refresh: number; onChanged(): void }) {
  const list = usePaged((cursor) => api.call(UserPageSchema, 'GET', '/v1/users', { query: { limit: PAGE, cursor } }), [refresh]);
  const [error, setError] = useState<unknown>(null);

  const disable = async (u: User) => {
    const self = u.id === me.id;
    const ok = await ctx.confirm({
      title: `Disable ${u.name}?`,
      body: `${self ? 'You are disabling yourself: this session ends at once. ' : ''}Every token of ${u.name} stops working at once; a disabled user cannot be enabled again (create a new one).`,
      confirmLabel: 'Disable',
      danger: true,
    });
    if (!ok) return;
    setError(null);
    try {
      await api.call(DisabledUserSchema, 'POST', `/v1/users/${encodeURIComponent(u.id)}/disable`);
      ctx.toast(`${u.name} is disabled`, 'success');
      ctx.announce(`${u.name} is disabled`);
      onChanged();
    } catch (err) {
      setError(err);
    }
  };

  return (
    <section aria-labelledby="users-title">
      <h2 id="users-title">Users</h2>
      {error ? <ErrorBox error={error} /> : null}
      <div aria-live="polite" aria-busy={list.busy ? 'true' : 'false'}>
        {list.error ? (
          <ErrorBox error={list.error} />
        ) : list.page ? (
          <Table
            caption="Users"
            className="users-table"
            head={['Name', 'Role', 'State', 'Organisation', 'Created', '']}
            empty="No user in your subtree yet. Create one above."
          >
            {list.page.items.map((u) => (
              <tr key={u.id} data-user-id={u.id} data-disabled={String(u.disabled)}>
                <td>
                  {u.name}
                  {u.id === me.id ? <span class="muted"> (you)</span> : null}
                </td>
                <td>{u.role}</td>
                <td>
                  <StateBadge state={u.disabled ? 'disabled' : 'enabled'} />
                </td>
                <td>{u.orgId}</td>
                <td>
                  <Time iso={u.createdAt} />
                </td>
                <td>
                  {u.disabled ? null : (
                    <button
                      type="button"
                      class="btn btn-small btn-danger-outline"
                      aria-label={`Disable ${u.name}`}
                      onClick={() => disable(u)}
                    >
                      Disable
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </Table>
        ) : null}
      </div>
      <Pager label="Pages of users" index={list.index} hasNext={list.hasNext} go={list.go} />
    </section>
  );
}

export function UsersPage({ ctx }: { ctx: ViewContext }) {
  const [me, setMe] = useState<Me | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [refresh, setRefresh] = useState(0);
  useEffect(() => {
    api.call(MeSchema, 'GET', '/v1/me').then(setMe, setError);
  }, []);
  const changed = () => setRefresh((n) => n + 1);

  if (error) return <ErrorBox error={error} />;
  if (!me) return <p class="loading">Loading…</p>;
  return (
    <>
      <OwnToken me={me} />
      {me.role === 'admin' ? (
        <>
          <CreateUserForm ctx={ctx} onCreated={changed} />
          <UserList ctx={ctx} me={me} refresh={refresh} onChanged={changed} />
          <UserRequests ctx={ctx} me={me} refresh={refresh} onDecided={changed} />
        </>
      ) : (
        <p class="unavailable">Users and user requests are for admins; ask an admin to create or disable a user.</p>
      )}
    </>
  );
}
