/** @jsxImportSource preact */
// The key inventory by terminal: each terminal of the page with the version and KCV of the key in
// each slot (GET /v1/devices/{id}/keys: KCVs, never key material), filtered on the server by serial
// and by a fleet query such as `keyVersion.tpk < 3`; above it, how many terminals hold each version.
import { useEffect, useState } from 'preact/hooks';
import { z } from 'zod';
import { device } from '../../../../server/devices/deviceRoutes.ts';
import { page as pageOf } from '../../../../server/http/schemas.ts';
import { keyInventory } from '../../../../server/keys/keySchemas.ts';
import { ExportButton } from '../../ExportButton.tsx';
import { api } from '../../session.ts';
import { ErrorBox, Field, FilterForm, fmtNumber, Pager, Table } from '../../ui.tsx';
import { usePaged } from '../../usePaged.ts';
import { fleetVersionCounts, MAX_VERSIONS, ROTATED_SLOTS, type VersionCount } from './keyVersionCounts.ts';

const PAGE = 20;
const devicePage = pageOf(device);
type Inventory = z.infer<typeof keyInventory>;
type Filters = { q?: string; query?: string };

/** One page of terminals, each with its inventory (read in parallel: a page is PAGE terminals). */
async function inventoryPage(filters: Filters, cursor: string | undefined) {
  const devices = await api.call(devicePage, 'GET', '/v1/devices', { query: { ...filters, limit: PAGE, cursor } });
  const inventories = await Promise.all(
    devices.items.map((d) => api.call(keyInventory, 'GET', `/v1/devices/${encodeURIComponent(d.id)}/keys`)),
  );
  return { items: devices.items.map((d, i) => ({ device: d, inventory: inventories[i] })), nextCursor: devices.nextCursor };
}

function SlotCell({ inventory, slot }: { inventory: Inventory | undefined; slot: string }) {
  const key = inventory?.slots.find((s) => s.slot === slot);
  if (!key) return <td class="muted">none</td>;
  return (
    <td data-slot={slot} data-version={key.version} data-kcv={key.kcv}>
      v{key.version} <code class="kcv">{key.kcv}</code>
    </td>
  );
}

function FleetVersions({ onPick }: { onPick(query: string): void }) {
  const [rows, setRows] = useState<VersionCount[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    fleetVersionCounts().then(setRows, setError);
  }, []);
  if (error) return <ErrorBox error={error} />;
  if (!rows) return <p class="loading">Counting key versions across the fleet…</p>;
  return (
    <Table
      caption="Key versions across the fleet"
      className="key-versions-table"
      head={['Slot', 'Version', 'Terminals', '']}
      empty="No terminal holds a key yet. Load keys with a key rotation (Rollouts & keys → New key rotation)."
    >
      {rows.map((r) => (
        <tr key={r.query} data-slot={r.slot} data-version={r.version ?? 'newer'}>
          <td>{r.slot}</td>
          <td>{r.version === null ? `newer than ${MAX_VERSIONS}` : `v${r.version}`}</td>
          <td>{fmtNumber(r.terminals)}</td>
          <td>
            <button
              type="button"
              class="btn btn-small"
              onClick={() => onPick(r.query)}
              aria-label={`Show the terminals with ${r.slot} ${r.version === null ? 'newer' : `v${r.version}`}`}
            >
              Show terminals
            </button>
          </td>
        </tr>
      ))}
    </Table>
  );
}

export function KeyInventory() {
  const [draft, setDraft] = useState<Filters>({});
  const [applied, setApplied] = useState<Filters>({});
  const list = usePaged((cursor) => inventoryPage(applied, cursor), [applied]);
  const apply = (next: Filters) => {
    setDraft(next);
    setApplied(Object.fromEntries(Object.entries(next).flatMap(([k, v]) => (v?.trim() ? [[k, v.trim()]] : []))));
  };
  const input = (k: keyof Filters) => (e: Event) => {
    const el = e.currentTarget;
    if (el instanceof HTMLInputElement) setDraft((d) => ({ ...d, [k]: el.value }));
  };
  const slots = [...new Set([...ROTATED_SLOTS, ...(list.page?.items.flatMap((r) => r.inventory?.slots.map((s) => s.slot) ?? []) ?? [])])];

  return (
    <section aria-labelledby="inventory-title">
      <h2 id="inventory-title">Key inventory by KCV</h2>
      <p class="muted">
        Check values (KCVs) and versions only: the server never answers with a key. A KCV identifies a key for checking, not a secret; two
        keys may share one by chance.
      </p>
      <FleetVersions onPick={(query) => apply({ query })} />
      <FilterForm label="Filter the key inventory" onApply={() => apply(draft)} onClear={() => apply({})}>
        <Field label="Serial" id="ki-q">
          <input id="ki-q" type="search" value={draft.q ?? ''} autocomplete="off" placeholder="serial, id or model" onInput={input('q')} />
        </Field>
        <Field label="Fleet query" id="ki-query">
          <input
            id="ki-query"
            type="text"
            value={draft.query ?? ''}
            autocomplete="off"
            placeholder="keyVersion.tpk < 3"
            onInput={input('query')}
          />
        </Field>
      </FilterForm>
      <div class="list-head">
        <p class="muted small">Export CSV: every key of the matching terminals, all versions and states, with its KCV.</p>
        <ExportButton path="/v1/exports/keys" query={applied} fileName="keys.csv" />
      </div>
      <div aria-live="polite" aria-busy={list.busy ? 'true' : 'false'}>
        {list.error ? (
          <ErrorBox error={list.error} />
        ) : list.page ? (
          <Table
            caption="Keys per terminal"
            className="key-inventory-table"
            head={['Terminal', ...slots.map((s) => s.toUpperCase())]}
            empty="No terminal matches. Clear the filters, or register and enroll terminals, then load keys with a key rotation."
          >
            {list.page.items.map(({ device: d, inventory }) => (
              <tr key={d.id} data-device-id={d.id}>
                <td>
                  <a href={`/ui/devices/${encodeURIComponent(d.id)}`}>{d.serial}</a>
                </td>
                {slots.map((s) => (
                  <SlotCell inventory={inventory} slot={s} />
                ))}
              </tr>
            ))}
          </Table>
        ) : null}
      </div>
      <Pager label="Pages of the key inventory" index={list.index} hasNext={list.hasNext} go={list.go} />
    </section>
  );
}
