/** @jsxImportSource preact */
// Organisations and allocation: the caller's subtree as a tree with each node's counts, creating
// and renaming nodes (admins), and the panel of one node (?node=, default the caller's own): its
// terminals, allocating them to another node, and moving a merchant with its terminals.
import { useEffect, useState } from 'preact/hooks';
import { MeSchema } from '../../../../server/auth/meSchema.ts';
import { api } from '../../session.ts';
import { ErrorBox } from '../../ui.tsx';
import type { Me, ViewContext } from '../../viewContract.ts';
import { AllocationForm } from './AllocationForm.tsx';
import { CreateOrgForm } from './CreateOrgForm.tsx';
import { MoveMerchantForm } from './MoveMerchantForm.tsx';
import { NodeTerminals } from './NodeTerminals.tsx';
import { OrgTreeList } from './OrgTreeList.tsx';
import type { Org } from './orgTree.ts';
import { useOrgTree } from './useOrgTree.ts';

function NodePanel({ ctx, me, nodes, node, onChanged }: { ctx: ViewContext; me: Me; nodes: Org[]; node: Org; onChanged(): void }) {
  const [picked, setPicked] = useState<Set<string>>(new Set());
  const [refresh, setRefresh] = useState(0);
  useEffect(() => setPicked(new Set()), [node.id]);
  const canMove = me.role === 'admin' || me.role === 'operator';
  const moved = () => {
    setPicked(new Set());
    setRefresh((n) => n + 1);
    onChanged();
  };
  const pick = (id: string, on: boolean) =>
    setPicked((p) => {
      const next = new Set(p);
      if (on) next.add(id);
      else next.delete(id);
      return next;
    });
  return (
    <section class="card org-panel" aria-labelledby="org-panel-title" data-org-id={node.id}>
      <h2 id="org-panel-title">{node.name}</h2>
      <p class="muted">
        <code>{node.id}</code> · {node.depth === 0 ? 'the root' : `depth ${node.depth}`}
      </p>
      <NodeTerminals nodes={nodes} node={node} refresh={refresh} picked={picked} onPick={pick} />
      {canMove ? (
        <>
          <AllocationForm ctx={ctx} nodes={nodes} from={node} picked={[...picked]} onAllocated={moved} />
          <MoveMerchantForm ctx={ctx} nodes={nodes} from={node} onMoved={moved} />
        </>
      ) : (
        <p class="unavailable">Allocating terminals and moving merchants is for admins and operators.</p>
      )}
    </section>
  );
}

export function OrgsPage({ ctx }: { ctx: ViewContext }) {
  const [me, setMe] = useState<Me | null>(null);
  const [meError, setMeError] = useState<unknown>(null);
  const [refresh, setRefresh] = useState(0);
  const tree = useOrgTree(refresh);
  useEffect(() => {
    api.call(MeSchema, 'GET', '/v1/me').then(setMe, setMeError);
  }, []);
  const changed = () => setRefresh((n) => n + 1);

  const error = meError ?? tree.error;
  if (error) return <ErrorBox error={error} />;
  if (!me || !tree.nodes) return <p class="loading">Loading…</p>;
  const nodes = tree.nodes;
  const own = nodes[0];
  if (!own) return <p class="empty">No organisation node is visible to you; ask an admin of your node.</p>;
  const wanted = ctx.query.get('node');
  const node = nodes.find((n) => n.id === wanted) ?? own;
  return (
    <>
      {wanted && node.id !== wanted ? <ErrorBox error={new Error(`No node ${wanted} in your subtree; showing ${own.name}.`)} /> : null}
      <OrgTreeList ctx={ctx} nodes={nodes} selected={node.id} canAdmin={me.role === 'admin'} onChanged={changed} />
      {me.role === 'admin' ? <CreateOrgForm ctx={ctx} nodes={nodes} parentId={node.id} onCreated={changed} /> : null}
      <NodePanel ctx={ctx} me={me} nodes={nodes} node={node} onChanged={changed} />
    </>
  );
}
