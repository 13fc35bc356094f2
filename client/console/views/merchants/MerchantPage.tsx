/** @jsxImportSource preact */
// /ui/merchants/{id}: the merchant (status, MID, location, policy currency), its terminals paged
// (GET /v1/devices?merchantId=…, each serial to its device page), binding a terminal to it, and the
// re-binding requests to or from it.
import { useEffect, useState } from 'preact/hooks';
import type { z } from 'zod';
import { MeSchema } from '../../../../server/auth/meSchema.ts';
import { device } from '../../../../server/devices/deviceRoutes.ts';
import { page as pageOf } from '../../../../server/http/schemas.ts';
import { merchantOut } from '../../../../server/merchants/apiSchemas.ts';
import { useLiveEvents } from '../../live.ts';
import { api, isRole } from '../../session.ts';
import { ErrorBox, OnlineBadge, Pager, StateBadge, Table } from '../../ui.tsx';
import { usePaged } from '../../usePaged.ts';
import type { Me, ViewContext } from '../../viewContract.ts';
import { BindTerminalForm } from './BindTerminalForm.tsx';
import { RebindRequests } from './RebindRequests.tsx';

const PAGE = 25;
const devicePage = pageOf(device);

function Terminals({ merchantId, refresh }: { merchantId: string; refresh: number }) {
  const list = usePaged(
    (cursor) => api.call(devicePage, 'GET', '/v1/devices', { query: { merchantId, limit: PAGE, cursor } }),
    [merchantId, refresh],
  );
  useLiveEvents((name) => (name === 'device.binding' || name === 'stream.resumed') && list.reload());
  return (
    <section aria-labelledby="terminals-title">
      <h2 id="terminals-title">Terminals</h2>
      <div aria-live="polite" aria-busy={list.busy ? 'true' : 'false'}>
        {list.error ? (
          <ErrorBox error={list.error} />
        ) : list.page ? (
          <Table
            caption="Terminals of this merchant"
            className="merchant-terminals-table"
            head={['Serial', 'Model', 'Status', 'Presence']}
            empty="No terminal is bound to this merchant. Bind one below by its serial and a TID."
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
                  <OnlineBadge online={d.online} />
                </td>
              </tr>
            ))}
          </Table>
        ) : null}
      </div>
      <Pager label="Pages of this merchant's terminals" index={list.index} hasNext={list.hasNext} go={list.go} />
    </section>
  );
}

function Summary({ m }: { m: z.infer<typeof merchantOut> }) {
  const rows: [string, preact.ComponentChildren][] = [
    ['Status', <StateBadge state={m.status} />],
    ['MID', <code>{m.mid}</code>],
    ['MCC', m.mcc],
    ['Kind', m.kind],
    ['Address', m.address],
    ['Fence', `${m.location.lat}, ${m.location.lon} · ${m.radiusM} m`],
    ['Time zone', m.timezone],
  ];
  return (
    <dl class="card facts" data-merchant-status={m.status}>
      {rows.map(([k, v]) => (
        <>
          <dt>{k}</dt>
          <dd>{v}</dd>
        </>
      ))}
    </dl>
  );
}

export function MerchantPage({ ctx }: { ctx: ViewContext }) {
  const id = ctx.params[0] ?? '';
  const [merchant, setMerchant] = useState<z.infer<typeof merchantOut> | null>(null);
  const [me, setMe] = useState<Me | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [refresh, setRefresh] = useState(0);
  useEffect(() => {
    Promise.all([api.call(merchantOut, 'GET', `/v1/merchants/${encodeURIComponent(id)}`), api.call(MeSchema, 'GET', '/v1/me')]).then(
      ([m, who]) => {
        setMerchant(m);
        setMe(who);
        ctx.setTitle(`Merchant ${m.name}`);
      },
      setError,
    );
  }, [id]);
  if (error) return <ErrorBox error={error} />;
  if (!merchant || !me) return <p class="loading">Loading…</p>;
  const changed = () => setRefresh((n) => n + 1);
  return (
    <>
      <p>
        <a href="/ui/merchants">← All merchants</a>
      </p>
      <Summary m={merchant} />
      <Terminals merchantId={id} refresh={refresh} />
      {isRole('admin', 'operator') ? <BindTerminalForm ctx={ctx} merchantId={id} onBound={changed} /> : null}
      <section aria-labelledby="merchant-rebinds-title">
        <h2 id="merchant-rebinds-title">Re-binding requests to or from this merchant</h2>
        <RebindRequests ctx={ctx} me={me} merchantId={id} refresh={refresh} onDecided={changed} />
      </section>
    </>
  );
}
