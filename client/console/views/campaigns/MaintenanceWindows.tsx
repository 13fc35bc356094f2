/** @jsxImportSource preact */
// Recurring maintenance windows (docs/maintenance-windows.md) on the campaigns page: the hours per
// merchant, group or organisation in which a campaign may serve a terminal, in its own time zone.
// Listed, set (checked with the API's own schema before sending) and removed after a confirmation.
import { useState } from 'preact/hooks';
import { isoWeekday, maintenanceScopes, newMaintenanceWindow, type MaintenanceScope } from '../../../../schemas/maintenance.ts';
import { MaintenanceWindowSchema } from '../../../../server/campaigns/maintenanceSchemas.ts';
import { page } from '../../../../server/http/schemas.ts';
import { api, isRole } from '../../session.ts';
import { ErrorBox, Field, Pager, Table } from '../../ui.tsx';
import { usePaged } from '../../usePaged.ts';
import type { ViewContext } from '../../viewContract.ts';

const DAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];
const isScope = (s: string): s is MaintenanceScope => maintenanceScopes.some((x) => x === s);

export function MaintenanceWindows({ ctx }: { ctx: ViewContext }) {
  const list = usePaged(
    (cursor) => api.call(page(MaintenanceWindowSchema), 'GET', '/v1/maintenance-windows', { query: { limit: 50, cursor } }),
    [],
  );
  const canChange = isRole('admin', 'operator');
  const [scope, setScope] = useState<MaintenanceScope>('merchant');
  const [targetId, setTargetId] = useState('');
  const [days, setDays] = useState<number[]>([1, 2, 3, 4, 5]);
  const [start, setStart] = useState('22:00');
  const [end, setEnd] = useState('04:00');
  const [error, setError] = useState<unknown>(null);

  async function create(e: Event) {
    e.preventDefault();
    setError(null);
    const body = newMaintenanceWindow.safeParse({ scope, targetId: targetId.trim(), days, start, end });
    if (!body.success) return setError(new Error(body.error.issues.map((i) => `${i.path.join('.') || 'window'}: ${i.message}`).join('; ')));
    try {
      await api.call(MaintenanceWindowSchema, 'POST', '/v1/maintenance-windows', { body: body.data });
      ctx.announce('Maintenance window set.');
      list.reload();
    } catch (err) {
      setError(err);
    }
  }
  async function remove(id: string) {
    if (
      !(await ctx.confirm({
        title: 'Remove this maintenance window?',
        body: 'Campaigns may then serve these terminals at any hour (or within their own window).',
        confirmLabel: 'Remove',
        danger: true,
      }))
    )
      return;
    try {
      await api.raw('DELETE', `/v1/maintenance-windows/${encodeURIComponent(id)}`);
      list.reload();
    } catch (err) {
      setError(err);
    }
  }

  const items = list.page?.items ?? [];
  return (
    <section class="card maintenance-windows" aria-labelledby="mw-title">
      <h2 id="mw-title">Maintenance windows</h2>
      <p class="muted">
        Campaigns serve a terminal only within the windows of its merchant, groups or organisation, in the terminal's time zone; a campaign
        may ignore them.
      </p>
      {list.error ? <ErrorBox error={list.error} /> : null}
      <Table
        caption="Maintenance windows"
        head={['Set for', 'Days', 'Hours', '']}
        empty="No maintenance window: campaigns may serve terminals at any hour. Set one below."
      >
        {items.map((w) => (
          <tr key={w.id} data-window-id={w.id}>
            <td>
              {w.scope} <code>{w.targetId}</code>
            </td>
            <td>{w.days.map((d) => DAYS[d - 1]).join(', ')}</td>
            <td>
              {w.start}–{w.end}
            </td>
            <td>
              {canChange ? (
                <button type="button" class="btn btn-small btn-danger" onClick={() => void remove(w.id)}>
                  Remove
                </button>
              ) : null}
            </td>
          </tr>
        ))}
      </Table>
      <Pager label="Maintenance window pages" index={list.index} hasNext={list.hasNext} go={list.go} />
      {canChange ? (
        <form class="fleet-form" aria-label="New maintenance window" onSubmit={(e) => void create(e)}>
          <Field label="Set for" id="mw-scope">
            <select id="mw-scope" value={scope} onChange={(e) => isScope(e.currentTarget.value) && setScope(e.currentTarget.value)}>
              {maintenanceScopes.map((s) => (
                <option value={s}>{s}</option>
              ))}
            </select>
          </Field>
          <Field label="Merchant, group or organisation id" id="mw-target">
            <input id="mw-target" value={targetId} onInput={(e) => setTargetId(e.currentTarget.value)} autocomplete="off" />
          </Field>
          <fieldset class="field">
            <legend>Days</legend>
            {DAYS.map((name, i) => (
              <label class="check">
                <input
                  type="checkbox"
                  checked={days.includes(i + 1)}
                  onChange={(e) => {
                    const d = isoWeekday.parse(i + 1);
                    const on = e.currentTarget.checked;
                    setDays((ds) => (on ? [...ds, d].sort((a, b) => a - b) : ds.filter((x) => x !== d)));
                  }}
                />{' '}
                {name}
              </label>
            ))}
          </fieldset>
          <Field label="From" id="mw-start">
            <input id="mw-start" type="time" value={start} onInput={(e) => setStart(e.currentTarget.value)} />
          </Field>
          <Field label="Until" id="mw-end">
            <input id="mw-end" type="time" value={end} onInput={(e) => setEnd(e.currentTarget.value)} />
          </Field>
          {error ? <ErrorBox error={error} /> : null}
          <button type="submit" class="btn btn-primary">
            Set window
          </button>
        </form>
      ) : null}
    </section>
  );
}
