/** @jsxImportSource preact */
// Terminals outside their merchant location: the open or acknowledged `relocated` faults (the
// merchants module opens them from out-of-fence fixes), the first 20, the rest in the fault queue.
// Reloaded with the fault counts, on any fault event, at most once in 1.5 s.
import { api, has } from '../../session.ts';
import { ErrorBox, Table, Time } from '../../ui.tsx';
import { useThrottledLive } from '../campaigns/useThrottledLive.ts';
import { faultPage } from '../faults/faultView.ts';
import { isFaultChange } from './overviewData.ts';
import { Unavailable } from '../../ui.tsx';
import { Loading } from './overviewParts.tsx';
import { useSummary } from './useSummary.ts';

const QUERY = { code: 'relocated', state: 'open,acknowledged', limit: 20 };

export function RelocatedTerminals() {
  const available = has('GET /v1/faults');
  const relocated = useSummary(available ? () => api.call(faultPage, 'GET', '/v1/faults', { query: QUERY }) : null);
  useThrottledLive(isFaultChange, relocated.reload, 1500);
  if (!available) return <Unavailable what="Relocation faults" />;
  if (relocated.error) return <ErrorBox error={relocated.error} />;
  if (!relocated.data) return <Loading />;
  return (
    <>
      <Table
        caption="Terminals outside their merchant location"
        head={['Terminal', 'Why', 'Since']}
        empty="No terminal is outside its merchant location."
      >
        {relocated.data.items.map((f) => (
          <tr key={f.id}>
            <td>
              <a href={`/ui/devices/${encodeURIComponent(f.deviceId)}`}>{f.serial ?? f.deviceId}</a>
              <div class="muted small">{f.model ?? ''}</div>
            </td>
            <td>{f.detail ?? f.title}</td>
            <td>
              <Time iso={f.openedAt} />
            </td>
          </tr>
        ))}
      </Table>
      {relocated.data.nextCursor ? (
        <p>
          <a href="/ui/faults?code=relocated">All relocated terminals</a>
        </p>
      ) : null}
    </>
  );
}
