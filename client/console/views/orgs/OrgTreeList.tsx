/** @jsxImportSource preact */
// The subtree as a nested list: each node with its own counts, a link that opens its panel, and
// rename for admins.
import { useState } from 'preact/hooks';
import { orgOut } from '../../../../server/orgs/orgSchemas.ts';
import { api } from '../../session.ts';
import { ErrorBox, fmtNumber } from '../../ui.tsx';
import type { ViewContext } from '../../viewContract.ts';
import { childrenOf, rootsOf, type Org } from './orgTree.ts';

interface Props {
  ctx: ViewContext;
  nodes: Org[];
  selected: string;
  canAdmin: boolean;
  onChanged(): void;
}

function RenameForm({ ctx, node, onDone }: { ctx: ViewContext; node: Org; onDone(renamed: boolean): void }) {
  const [name, setName] = useState(node.name);
  const [error, setError] = useState<unknown>(null);
  const submit = async (e: Event) => {
    e.preventDefault();
    setError(null);
    try {
      const renamed = await api.call(orgOut, 'PATCH', `/v1/orgs/${encodeURIComponent(node.id)}`, { body: { name: name.trim() } });
      ctx.toast(`Renamed to ${renamed.name}`, 'success');
      onDone(true);
    } catch (err) {
      setError(err);
    }
  };
  return (
    <form class="org-rename" onSubmit={submit}>
      <label for={`rename-${node.id}`}>New name of {node.name}</label>{' '}
      <input id={`rename-${node.id}`} value={name} maxLength={200} onInput={(e) => setName(e.currentTarget.value)} />{' '}
      <button type="submit" class="btn btn-small btn-primary">
        Save
      </button>{' '}
      <button type="button" class="btn btn-small" onClick={() => onDone(false)}>
        Cancel
      </button>
      {error ? <ErrorBox error={error} /> : null}
    </form>
  );
}

function NodeItem({ node, ...props }: Props & { node: Org }) {
  const [renaming, setRenaming] = useState(false);
  const kids = childrenOf(props.nodes, node.id);
  const { counts } = node;
  return (
    <li data-org-id={node.id} data-depth={node.depth}>
      <a href={`/ui/orgs?node=${encodeURIComponent(node.id)}`} aria-current={node.id === props.selected ? 'true' : undefined}>
        {node.name}
      </a>{' '}
      <span class="muted org-counts" data-terminals={counts.terminals} data-merchants={counts.merchants} data-users={counts.users}>
        {fmtNumber(counts.terminals)} terminals · {fmtNumber(counts.merchants)} merchants · {fmtNumber(counts.users)} users
      </span>{' '}
      {props.canAdmin && !renaming ? (
        <button type="button" class="btn btn-small" aria-label={`Rename ${node.name}`} onClick={() => setRenaming(true)}>
          Rename
        </button>
      ) : null}
      {renaming ? (
        <RenameForm
          ctx={props.ctx}
          node={node}
          onDone={(renamed) => {
            setRenaming(false);
            if (renamed) props.onChanged();
          }}
        />
      ) : null}
      {kids.length ? (
        <ul>
          {kids.map((k) => (
            <NodeItem key={k.id} {...props} node={k} />
          ))}
        </ul>
      ) : null}
    </li>
  );
}

export function OrgTreeList(props: Props) {
  return (
    <section class="card" aria-labelledby="org-tree-title">
      <h2 id="org-tree-title">Organisation tree</h2>
      <p class="hint">Counts are of each node itself, not of the nodes below it. Pick a node to see its terminals and allocate them.</p>
      <ul class="org-tree">
        {rootsOf(props.nodes).map((n) => (
          <NodeItem key={n.id} {...props} node={n} />
        ))}
      </ul>
      {props.nodes.length === 1 ? <p class="empty">No agent below your node yet: create one with the form below.</p> : null}
    </section>
  );
}
