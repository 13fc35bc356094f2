/** @jsxImportSource preact */
// Static groups: the list with member counts (paged), a new group, rename in place, delete after
// confirmation (its terminals stay). Choosing a group opens its members beside the list.
import { useState } from 'preact/hooks';
import type { z } from 'zod';
import { group } from '../../../../server/groups/groupRoutes.ts';
import { page } from '../../../../server/http/schemas.ts';
import { api } from '../../session.ts';
import { ErrorBox, Field, fmtNumber, Pager, Table, Time } from '../../ui.tsx';
import { usePaged } from '../../usePaged.ts';
import type { ViewContext } from '../../viewContract.ts';

const PAGE = 50;
const groupPage = page(group);
export type Group = z.infer<typeof group>;

const inputValue = (e: Event) => (e.currentTarget instanceof HTMLInputElement ? e.currentTarget.value : '');

function NewGroupForm({ onCreated }: { onCreated(g: Group): void }) {
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const made = await api.call(group, 'POST', '/v1/groups', {
        body: { name: name.trim(), ...(description.trim() ? { description: description.trim() } : {}) },
      });
      setName('');
      setDescription('');
      onCreated(made);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="card form-stack fleet-form" aria-label="New group" onSubmit={submit}>
      <Field label="New group name" id="g-name">
        <input id="g-name" value={name} maxLength={100} required onInput={(e) => setName(inputValue(e))} />
      </Field>
      <Field label="Description (optional)" id="g-description">
        <input id="g-description" value={description} maxLength={1000} onInput={(e) => setDescription(inputValue(e))} />
      </Field>
      {error ? <ErrorBox error={error} /> : null}
      <button type="submit" class="btn btn-primary" disabled={busy || !name.trim()}>
        Create group
      </button>
    </form>
  );
}

function RenameForm({ g, onDone }: { g: Group; onDone(changed: boolean): void }) {
  const [name, setName] = useState(g.name);
  const [error, setError] = useState<unknown>(null);
  const submit = async (e: Event) => {
    e.preventDefault();
    setError(null);
    try {
      await api.call(group, 'PATCH', `/v1/groups/${encodeURIComponent(g.id)}`, { body: { name: name.trim() } });
      onDone(true);
    } catch (err) {
      setError(err);
    }
  };
  return (
    <form class="row-actions" aria-label={`Rename ${g.name}`} onSubmit={submit}>
      <input aria-label="New name" value={name} maxLength={100} onInput={(e) => setName(inputValue(e))} />
      <button type="submit" class="btn btn-primary" disabled={!name.trim() || name.trim() === g.name}>
        Save
      </button>
      <button type="button" class="btn" onClick={() => onDone(false)}>
        Cancel
      </button>
      {error ? <ErrorBox error={error} /> : null}
    </form>
  );
}

export function GroupList(props: {
  ctx: ViewContext;
  canChange: boolean;
  selected: string | null;
  refresh: number;
  select(id: string | null): void;
  changed(): void;
}) {
  const { ctx, canChange, selected, refresh, select, changed } = props;
  const list = usePaged((cursor) => api.call(groupPage, 'GET', '/v1/groups', { query: { limit: PAGE, cursor } }), [refresh]);
  const [renaming, setRenaming] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);

  const remove = async (g: Group) => {
    const ok = await ctx.confirm({
      title: `Delete the group ${g.name}?`,
      body: `Its ${fmtNumber(g.members)} terminals stay registered; only the grouping goes. Campaigns that target this group take in no one more.`,
      confirmLabel: 'Delete group',
      danger: true,
    });
    if (!ok) return;
    setError(null);
    try {
      await api.raw('DELETE', `/v1/groups/${encodeURIComponent(g.id)}`);
      ctx.toast(`Group ${g.name} deleted`, 'success');
      if (selected === g.id) select(null);
      changed();
    } catch (err) {
      setError(err);
    }
  };

  return (
    <section aria-labelledby="groups-title">
      <h2 id="groups-title">Static groups</h2>
      {canChange ? (
        <NewGroupForm
          onCreated={(g) => {
            ctx.toast(`Group ${g.name} created`, 'success');
            changed();
            select(g.id);
          }}
        />
      ) : null}
      {error ? <ErrorBox error={error} /> : null}
      <div aria-live="polite" aria-busy={list.busy ? 'true' : 'false'}>
        {list.error ? (
          <ErrorBox error={list.error} />
        ) : list.page ? (
          <Table
            caption="Static groups"
            className="groups-table"
            head={['Name', 'Members', 'Description', 'Updated', '']}
            empty="No groups yet. Name one above, then add terminals to it by serial or id."
          >
            {list.page.items.map((g) => (
              <tr key={g.id} data-group-id={g.id} aria-selected={selected === g.id ? 'true' : undefined}>
                <td>
                  {renaming === g.id ? (
                    <RenameForm
                      g={g}
                      onDone={(did) => {
                        setRenaming(null);
                        if (did) changed();
                      }}
                    />
                  ) : (
                    <button type="button" class="btn btn-quiet" aria-pressed={selected === g.id} onClick={() => select(g.id)}>
                      {g.name}
                    </button>
                  )}
                </td>
                <td class="num">{fmtNumber(g.members)}</td>
                <td>{g.description || <span class="muted">—</span>}</td>
                <td>
                  <Time iso={g.updatedAt} />
                </td>
                <td>
                  {canChange ? (
                    <div class="row-actions">
                      <button type="button" class="btn" onClick={() => setRenaming(g.id)}>
                        Rename
                      </button>
                      <button type="button" class="btn btn-danger-outline" onClick={() => remove(g)}>
                        Delete
                      </button>
                    </div>
                  ) : null}
                </td>
              </tr>
            ))}
          </Table>
        ) : null}
      </div>
      <Pager label="Pages of groups" index={list.index} hasNext={list.hasNext} go={list.go} />
    </section>
  );
}
