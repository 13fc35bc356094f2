/** @jsxImportSource preact */
// Device list: server-side filters and cursor paging (50 a page), so 10,000 terminals cost one
// page; the filters live in the address so a shared link shows the same list. Presence badges
// follow device.presence live for the rows on screen.
import { z } from 'zod';
import { useState } from 'preact/hooks';
import { devicePage as serverDevicePage, listedDevice } from '../../../server/devices/deviceRoutes.ts';
import { healthSample } from '../../../schemas/wire.ts';
import { ExportButton } from '../ExportButton.tsx';
import { api } from '../session.ts';
import { ErrorBox, Field, FilterForm, fmtNumber, OnlineBadge, Pager, StateBadge, Table, Time } from '../ui.tsx';
import { usePaged } from '../usePaged.ts';
import type { ViewContext } from '../viewContract.ts';
import { useLiveEvents } from '../live.ts';
import { faultQuery, isFaultPresence } from './deviceFaultFilter.ts';

const PAGE = 50;
// The Device schema is open (looseObject): these are the members of its answer this page shows.
const listed = listedDevice.extend({
  lastSeenAt: z.string().nullish(),
  fwVersion: z.string().nullish(),
  reportedFwVersion: z.string().nullish(),
  health: healthSample.partial().nullish(),
});
const devicePage = serverDevicePage.extend({ items: z.array(listed) });
type Listed = z.infer<typeof listed>;

const FILTERS = ['q', 'online', 'status', 'model', 'fwVersion', 'merchantId', 'faults', 'faultCode'] as const;
type Filters = Partial<Record<(typeof FILTERS)[number], string>>;

const fromQuery = (q: URLSearchParams): Filters => Object.fromEntries(FILTERS.flatMap((k) => (q.get(k) ? [[k, q.get(k) ?? '']] : [])));

/** The filters as the list and its export read them (the open-fault filter as a fleet query). */
function listQuery(applied: Filters) {
  const { faults, faultCode, ...plain } = applied;
  return { ...plain, query: faultQuery(isFaultPresence(faults) ? faults : '', faultCode) };
}

export function Devices({ ctx }: { ctx: ViewContext }) {
  const [draft, setDraft] = useState<Filters>(() => fromQuery(ctx.query));
  const [applied, setApplied] = useState<Filters>(draft);
  const [presence, setPresence] = useState<Record<string, boolean>>({});
  const [total, setTotal] = useState<number | null>(null);
  const list = usePaged(
    (cursor) => {
      return api.call(devicePage, 'GET', '/v1/devices', { query: { ...listQuery(applied), limit: PAGE, cursor } }).then((p) => {
        if (p.total !== undefined) setTotal(p.total);
        return p;
      });
    },
    [applied],
  );

  useLiveEvents((name, data) => {
    if (name === 'device.presence' && typeof data.deviceId === 'string' && typeof data.online === 'boolean') {
      const { deviceId, online } = data;
      setPresence((p) => ({ ...p, [deviceId]: online }));
    }
    if (name === 'stream.resumed') list.reload();
  });

  const apply = (next: Filters) => {
    const clean = Object.fromEntries(Object.entries(next).flatMap(([k, v]) => (v?.trim() ? [[k, v.trim()]] : [])));
    const params = new URLSearchParams(clean);
    history.replaceState(null, '', `/ui/devices${params.size ? `?${params}` : ''}`);
    setPresence({});
    setApplied(clean);
  };
  const set = (k: keyof Filters) => (e: Event) => {
    const el = e.currentTarget;
    if (el instanceof HTMLInputElement || el instanceof HTMLSelectElement) setDraft((d) => ({ ...d, [k]: el.value }));
  };
  const text = (id: string, k: keyof Filters, label: string, placeholder?: string) => (
    <Field label={label} id={id}>
      <input
        id={id}
        name={k}
        type={k === 'q' ? 'search' : 'text'}
        value={draft[k] ?? ''}
        placeholder={placeholder}
        autocomplete="off"
        onInput={set(k)}
      />
    </Field>
  );
  const select = (id: string, k: keyof Filters, label: string, options: [string, string][]) => (
    <Field label={label} id={id}>
      <select id={id} name={k} value={draft[k] ?? ''} onChange={set(k)}>
        {options.map(([v, t]) => (
          <option value={v}>{t}</option>
        ))}
      </select>
    </Field>
  );

  return (
    <>
      <FilterForm
        label="Filter devices"
        onApply={() => apply(draft)}
        onClear={() => {
          setDraft({});
          apply({});
        }}
      >
        {text('f-q', 'q', 'Search', 'serial, id or model')}
        {select('f-online', 'online', 'Presence', [
          ['', 'Any'],
          ['true', 'Online'],
          ['false', 'Offline'],
        ])}
        {select('f-status', 'status', 'Status', [
          ['', 'Any'],
          ['enrolled', 'Enrolled'],
          ['registered', 'Registered'],
          ['revoked', 'Revoked'],
        ])}
        {text('f-model', 'model', 'Model')}
        {text('f-fw', 'fwVersion', 'Firmware')}
        {text('f-merchant', 'merchantId', 'Merchant id')}
        {select('f-faults', 'faults', 'Open faults', [
          ['', 'Any'],
          ['with', 'With open faults'],
          ['without', 'Without open faults'],
        ])}
        {text('f-fault-code', 'faultCode', 'Fault code', 'e.g. paper_out')}
      </FilterForm>
      <div class="list-head">
        <p class="muted device-count" aria-live="polite" data-total={total ?? undefined}>
          {total === null ? '' : `${fmtNumber(total)} terminal${total === 1 ? '' : 's'} match.`}
        </p>
        <ExportButton path="/v1/exports/devices" query={listQuery(applied)} fileName="devices.csv" />
      </div>
      <div aria-live="polite" aria-busy={list.busy ? 'true' : 'false'}>
        {list.error ? (
          <ErrorBox error={list.error} />
        ) : list.page ? (
          <Table
            caption="Devices"
            className="devices-table"
            head={['Serial', 'Model', 'Status', 'Presence', 'Open faults', 'Firmware', 'Merchant', 'Battery', 'Last seen']}
            empty="No device matches these filters. Clear the filters, or register terminals (POST /v1/devices/import)."
          >
            {list.page.items.map((d) => (
              <tr key={d.id} data-device-id={d.id}>
                <td>
                  <a href={`/ui/devices/${encodeURIComponent(d.id)}`}>{d.serial}</a>
                </td>
                <td>{d.model}</td>
                <td>
                  <StateBadge state={d.status} />
                </td>
                <td>
                  <OnlineBadge online={presence[d.id] ?? d.online} everSeen={d.id in presence || Boolean(d.lastSeenAt)} />
                </td>
                <td>
                  <OpenFaults faults={d.openFaults} />
                </td>
                <td>{d.reportedFwVersion ?? d.fwVersion ?? '—'}</td>
                <td>{d.merchantId ?? '—'}</td>
                <td>{d.health?.battery ? `${Math.round(d.health.battery.level)}%${d.health.battery.charging ? ' ⚡' : ''}` : '—'}</td>
                <td>
                  <Time iso={d.lastSeenAt} />
                </td>
              </tr>
            ))}
          </Table>
        ) : null}
      </div>
      <Pager label="Pages of devices" index={list.index} hasNext={list.hasNext} go={list.go} />
    </>
  );
}

const SHOWN_CODES = 3;

/** A terminal's open faults, worst first: the first codes as badges, the rest counted; every title on hover. */
function OpenFaults({ faults }: { faults: Listed['openFaults'] }) {
  if (!faults.length) return <span class="muted">none</span>;
  const rest = faults.length - SHOWN_CODES;
  return (
    <span class="open-faults" data-count={faults.length} title={faults.map((f) => `${f.title} (${f.severity})`).join('\n')}>
      {faults.slice(0, SHOWN_CODES).map((f) => (
        <span class={`badge sev sev-${f.severity}`} data-code={f.code}>
          {f.code}
        </span>
      ))}
      {rest > 0 ? <span class="muted"> +{rest}</span> : null}
    </span>
  );
}
