/** @jsxImportSource preact */
// DUKPT base derivation keys: name, scheme, key set id and KCV (GET /v1/bdks; never the key). A BDK
// is only ever made by a dual-control request (bdk.generate or bdk.import), decided below.
import { useEffect, useState } from 'preact/hooks';
import { z } from 'zod';
import { bdkView } from '../../../../server/keys/dukpt/bdkSchema.ts';
import { api } from '../../session.ts';
import { ErrorBox, fmtNumber, Pager, StateBadge, Table, Time } from '../../ui.tsx';
import { pageOfList } from './pageOfList.ts';

const bdkList = z.object({ items: z.array(bdkView) });
const PAGE = 20;

export function BdkList({ refresh }: { refresh: number }) {
  const [items, setItems] = useState<z.infer<typeof bdkView>[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [index, setIndex] = useState(0);
  useEffect(() => {
    api.call(bdkList, 'GET', '/v1/bdks').then((r) => {
      setItems(r.items);
      setError(null);
    }, setError);
  }, [refresh]);
  const shown = pageOfList(items ?? [], index, PAGE);

  return (
    <section aria-labelledby="bdks-title">
      <h2 id="bdks-title">DUKPT base derivation keys</h2>
      {error ? <ErrorBox error={error} /> : null}
      {items ? (
        <Table
          caption="Base derivation keys"
          className="bdks-table"
          head={['Name', 'Scheme', 'Key set id', 'KCV', 'State', 'Origin', 'Initial keys', 'Made']}
          empty="No BDK yet. An admin requests one (POST /v1/key-vault/requests, action bdk.generate or bdk.import) and a second admin approves it above."
        >
          {shown.items.map((b) => (
            <tr key={b.id} data-bdk-id={b.id}>
              <td>{b.name}</td>
              <td>{b.scheme}</td>
              <td>
                <code>{b.keySetId}</code>
              </td>
              <td>
                <code class="kcv">{b.kcv}</code>
              </td>
              <td>
                <StateBadge state={b.state} />
              </td>
              <td>{b.origin}</td>
              <td>{fmtNumber(b.initialKeys)}</td>
              <td>
                <Time iso={b.createdAt} />
              </td>
            </tr>
          ))}
        </Table>
      ) : null}
      <Pager label="Pages of BDKs" index={index} hasNext={shown.hasNext} go={setIndex} />
    </section>
  );
}
