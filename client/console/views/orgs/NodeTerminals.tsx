/** @jsxImportSource preact */
// One node's own terminals (not its sub-agents'), paged, each linking to its device page; the
// unbound ones can be ticked for allocation.
import { useState } from 'preact/hooks';
import { devicePage } from '../../../../server/devices/deviceRoutes.ts';
import { api } from '../../session.ts';
import { ErrorBox, Pager, StateBadge, Table } from '../../ui.tsx';
import { usePaged } from '../../usePaged.ts';
import { nodeTerminalsQuery, type Org } from './orgTree.ts';

const PAGE = 50;

interface Props {
  nodes: Org[];
  node: Org;
  refresh: number;
  picked: Set<string>;
  onPick(id: string, on: boolean): void;
}

export function NodeTerminals({ nodes, node, refresh, picked, onPick }: Props) {
  const [unboundOnly, setUnboundOnly] = useState(false);
  const list = usePaged(
    (cursor) =>
      api.call(devicePage, 'GET', '/v1/devices', {
        query: { query: nodeTerminalsQuery(nodes, node.id, unboundOnly), limit: PAGE, cursor },
      }),
    [node.id, unboundOnly, refresh],
  );
  return (
    <section aria-labelledby="node-terminals-title">
      <h3 id="node-terminals-title">Terminals of {node.name}</h3>
      <label class="inline">
        <input type="checkbox" checked={unboundOnly} onChange={(e) => setUnboundOnly(e.currentTarget.checked)} /> Only unbound terminals
        (the ones allocation can move)
      </label>
      <div aria-live="polite" aria-busy={list.busy ? 'true' : 'false'}>
        {list.error ? (
          <ErrorBox error={list.error} />
        ) : list.page ? (
          <Table
            caption={`Terminals of ${node.name}`}
            className="org-terminals"
            head={['Pick', 'Serial', 'Model', 'Status', 'Merchant']}
            empty={`${node.name} has no terminal of its own${unboundOnly ? ' without a merchant' : ''}. Register terminals on the Devices page${node.parentId ? ', or allocate some to it from its parent' : ''}.`}
          >
            {list.page.items.map((d) => (
              <tr key={d.id} data-device-id={d.id} data-serial={d.serial}>
                <td>
                  {d.merchantId ? (
                    <span class="muted" title="A bound terminal moves only with its merchant">
                      bound
                    </span>
                  ) : (
                    <input
                      type="checkbox"
                      aria-label={`Pick ${d.serial}`}
                      checked={picked.has(d.id)}
                      onChange={(e) => onPick(d.id, e.currentTarget.checked)}
                    />
                  )}
                </td>
                <td>
                  <a href={`/ui/devices/${encodeURIComponent(d.id)}`}>{d.serial}</a>
                </td>
                <td>{d.model}</td>
                <td>
                  <StateBadge state={d.status} />
                </td>
                <td>{d.merchantId ? <a href={`/ui/merchants/${encodeURIComponent(d.merchantId)}`}>{d.merchantId}</a> : '—'}</td>
              </tr>
            ))}
          </Table>
        ) : null}
      </div>
      <Pager label={`Pages of terminals of ${node.name}`} index={list.index} hasNext={list.hasNext} go={list.go} />
    </section>
  );
}
