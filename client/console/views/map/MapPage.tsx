/** @jsxImportSource preact */
// /ui/map: the terminals of the caller's subtree where they last reported being, coloured by
// presence (live from the stream), with each merchant's geofence; a merchant filter kept in the address; and the same
// terminals as a table (those in view), the map's text alternative.
import { useMemo, useState } from 'preact/hooks';
import { ErrorBox, Field, OnlineBadge, Table } from '../../ui.tsx';
import type { ViewContext } from '../../viewContract.ts';
import { FleetMap } from './FleetMap.tsx';
import type { TerminalPoint } from './mapData.ts';
import { useLivePresence, withPresence } from './useLivePresence.ts';
import { useMapData } from './useMapData.ts';

/** Rows of the text alternative; past this the table says how many more are in view. */
const TABLE_ROWS = 200;

const fmtCoord = (n: number) => n.toFixed(4);

export function MapPage({ ctx }: { ctx: ViewContext }) {
  const [merchantId, setMerchantId] = useState<string | undefined>(() => ctx.query.get('merchantId') ?? undefined);
  const [visible, setVisible] = useState<TerminalPoint[]>([]);
  const data = useMapData(merchantId);
  const presence = useLivePresence();
  const terminals = useMemo(() => withPresence(data.terminals, presence), [data.terminals, presence]);

  const names = useMemo(() => new Map(data.fences.map((f) => [f.merchantId, f.name])), [data.fences]);
  const merchantName = (id: string) => names.get(id) ?? id;
  const fences = useMemo(
    () => (merchantId ? data.fences.filter((f) => f.merchantId === merchantId) : data.fences),
    [data.fences, merchantId],
  );

  const choose = (e: Event) => {
    const el = e.currentTarget;
    if (!(el instanceof HTMLSelectElement)) return;
    const next = el.value || undefined;
    history.replaceState(null, '', `/ui/map${next ? `?${new URLSearchParams({ merchantId: next })}` : ''}`);
    setVisible([]);
    setMerchantId(next);
  };

  const unplaced = data.listed - data.terminals.length;
  return (
    <>
      <form class="filters card" role="search" aria-label="Filter the map" onSubmit={(e) => e.preventDefault()}>
        <Field label="Merchant" id="map-merchant">
          <select id="map-merchant" name="merchantId" value={merchantId ?? ''} onChange={choose}>
            <option value="">All merchants</option>
            {data.fences.map((f) => (
              <option value={f.merchantId}>{f.name}</option>
            ))}
            {merchantId && !names.has(merchantId) ? <option value={merchantId}>{merchantId}</option> : null}
          </select>
        </Field>
      </form>
      <p class="muted map-status" aria-live="polite" data-done={String(data.done)}>
        {data.done
          ? `${data.terminals.length} terminals on the map${unplaced ? `; ${unplaced} report no location yet` : ''}.`
          : `Loading terminals… ${data.listed} so far.`}
      </p>
      {data.error ? <ErrorBox error={data.error} /> : null}
      {data.done && !data.error && data.terminals.length === 0 ? (
        <p class="card map-empty" role="status">
          No terminal {merchantId ? 'of this merchant ' : ''}reports a location yet. Terminals send their position in their health reports;
          they appear here after their next report.
        </p>
      ) : null}
      <ul class="map-legend" aria-label="Legend">
        <li>
          <span class="swatch swatch-online" aria-hidden="true" />
          online
        </li>
        <li>
          <span class="swatch swatch-offline" aria-hidden="true" />
          offline
        </li>
        <li>
          <span class="swatch swatch-never" aria-hidden="true" />
          not yet connected
        </li>
        <li>
          <span class="swatch swatch-fence" aria-hidden="true" />
          merchant geofence
        </li>
      </ul>
      <FleetMap
        terminals={terminals}
        fences={fences}
        merchantName={merchantName}
        onView={setVisible}
        fitKey={merchantId ?? ''}
        fitFences={Boolean(merchantId)}
        ready={data.done}
      />
      <h2>Terminals in view</h2>
      <Table
        caption="Terminals in view on the map"
        className="map-table"
        head={['Serial', 'Merchant', 'Presence', 'Status', 'Latitude', 'Longitude']}
        empty="No terminal in view. Zoom out or choose another merchant."
      >
        {visible.slice(0, TABLE_ROWS).map((p) => (
          <tr key={p.id} data-device-id={p.id}>
            <td>
              <a href={`/ui/devices/${encodeURIComponent(p.id)}`}>{p.serial}</a>
            </td>
            <td>{p.merchantId ? merchantName(p.merchantId) : '—'}</td>
            <td>
              <OnlineBadge online={p.presence === 'online'} everSeen={p.presence !== 'never'} />
            </td>
            <td>{p.status}</td>
            <td>{fmtCoord(p.lat)}</td>
            <td>{fmtCoord(p.lon)}</td>
          </tr>
        ))}
      </Table>
      {visible.length > TABLE_ROWS ? (
        <p class="muted">
          The first {TABLE_ROWS} of {visible.length} terminals in view. Zoom in or choose a merchant to list the others.
        </p>
      ) : null}
    </>
  );
}
