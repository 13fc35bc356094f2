/** @jsxImportSource preact */
// A new node below one of the caller's subtree (an agent, or a sub-agent of one).
import { useState } from 'preact/hooks';
import { orgOut } from '../../../../server/orgs/orgSchemas.ts';
import { api } from '../../session.ts';
import { ErrorBox, Field } from '../../ui.tsx';
import type { ViewContext } from '../../viewContract.ts';
import type { Org } from './orgTree.ts';

export function CreateOrgForm({
  ctx,
  nodes,
  parentId,
  onCreated,
}: {
  ctx: ViewContext;
  nodes: Org[];
  parentId: string;
  onCreated(): void;
}) {
  const [name, setName] = useState('');
  const [parent, setParent] = useState(parentId);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setError(null);
    if (!name.trim()) return setError(new Error('Enter the new node’s name.'));
    setBusy(true);
    try {
      const made = await api.call(orgOut, 'POST', '/v1/orgs', { body: { name: name.trim(), parentId: parent } });
      setName('');
      ctx.toast(`${made.name} was created`, 'success');
      ctx.announce(`${made.name} was created`);
      onCreated();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <section class="card" aria-labelledby="create-org-title">
      <h2 id="create-org-title">Create a node</h2>
      <form class="filters create-org" onSubmit={submit}>
        <Field label="Name" id="org-name">
          <input id="org-name" autocomplete="off" maxLength={200} value={name} onInput={(e) => setName(e.currentTarget.value)} />
        </Field>
        <Field label="Parent" id="org-parent">
          <select id="org-parent" value={parent} onChange={(e) => setParent(e.currentTarget.value)}>
            {nodes.map((n) => (
              <option value={n.id}>{`${'— '.repeat(n.depth)}${n.name}`}</option>
            ))}
          </select>
        </Field>
        <div class="field field-actions">
          <button type="submit" class="btn btn-primary" disabled={busy}>
            {busy ? 'Creating…' : 'Create node'}
          </button>
        </div>
      </form>
      {error ? <ErrorBox error={error} /> : null}
    </section>
  );
}
