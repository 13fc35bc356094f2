/** @jsxImportSource preact */
// Creating a user: the answer is the new user with its first token (shown once), or, for an admin
// while two admins are enabled, a request that another admin has to approve (dual control).
import { useState } from 'preact/hooks';
import { z } from 'zod';
import { CreatedUserSchema, RoleSchema, UserRequestedSchema } from '../../../../server/auth/userSchemas.ts';
import { api } from '../../session.ts';
import { ErrorBox, Field } from '../../ui.tsx';
import type { ViewContext } from '../../viewContract.ts';
import { TokenReveal } from './TokenReveal.tsx';

const createAnswer = z.union([CreatedUserSchema, UserRequestedSchema]);
type Role = z.infer<typeof RoleSchema>;
type Outcome = z.infer<typeof createAnswer>;

export function CreateUserForm({ ctx, onCreated }: { ctx: ViewContext; onCreated(): void }) {
  const [name, setName] = useState('');
  const [role, setRole] = useState<Role>('operator');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [outcome, setOutcome] = useState<Outcome | null>(null);

  const submit = async (e: Event) => {
    e.preventDefault();
    setError(null);
    if (!name.trim()) return setError(new Error('Enter the new user’s name.'));
    setBusy(true);
    try {
      const answer = await api.call(createAnswer, 'POST', '/v1/users', { body: { name: name.trim(), role } });
      setOutcome(answer);
      setName('');
      ctx.announce('request' in answer ? `A second admin must approve ${answer.request.name}` : `${answer.name} was created`);
      onCreated();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section class="card" aria-labelledby="create-user-title">
      <h2 id="create-user-title">Create a user</h2>
      <form class="filters create-user" onSubmit={submit}>
        <Field label="Name" id="u-name">
          <input id="u-name" name="name" autocomplete="off" maxLength={100} value={name} onInput={(e) => setName(e.currentTarget.value)} />
        </Field>
        <Field label="Role" id="u-role">
          <select id="u-role" name="role" value={role} onChange={(e) => setRole(RoleSchema.parse(e.currentTarget.value))}>
            {RoleSchema.options.map((r) => (
              <option value={r}>{r}</option>
            ))}
          </select>
        </Field>
        <div class="field field-actions">
          <button type="submit" class="btn btn-primary" disabled={busy}>
            {busy ? 'Creating…' : 'Create user'}
          </button>
        </div>
      </form>
      <p class="hint">
        The new user gets a first API token, shown once below; hand it over on a safe channel. While two admins are enabled, a new admin is
        a request that another admin approves.
      </p>
      {error ? <ErrorBox error={error} /> : null}
      {outcome && 'request' in outcome ? (
        <p class="note user-requested" role="status" data-request-id={outcome.request.id}>
          {outcome.request.name} ({outcome.request.role}) is a request, not a user yet: another admin approves or rejects it under “User
          requests” below (request {outcome.request.id}).
        </p>
      ) : null}
      {outcome && !('request' in outcome) ? (
        <TokenReveal token={outcome.token} owner={outcome.name} onDismiss={() => setOutcome(null)} />
      ) : null}
    </section>
  );
}
