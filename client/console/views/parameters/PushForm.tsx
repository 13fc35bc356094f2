/** @jsxImportSource preact */
// Start a parameter push (a campaign of config.set, docs/parameters.md "Pushing") of one template
// version to a static group or a saved filter: each terminal is sent its own desired set. Made and
// started after confirmation, in one phase; the pushes so far are listed with state and counts.
import { useEffect, useState } from 'preact/hooks';
import { campaignView } from '../../../../server/campaigns/campaignRoutes.ts';
import { savedFilter } from '../../../../server/groups/filterRoutes.ts';
import { group } from '../../../../server/groups/groupRoutes.ts';
import { page } from '../../../../server/http/schemas.ts';
import { api } from '../../session.ts';
import { ErrorBox, Field, fmtNumber, Pager, StateBadge, Table, Time, inputText } from '../../ui.tsx';
import { usePaged } from '../../usePaged.ts';
import { useThrottledLive } from '../campaigns/useThrottledLive.ts';
import type { ViewContext } from '../../viewContract.ts';

const pushView = campaignView('ParameterPushConsole', {});
const pushPage = page(pushView);
const groupPage = page(group);
const filterPage = page(savedFilter);
type Choice = { value: string; label: string };


/** A target as the select holds it: `group:<id>` or `filter:<id>`. */
const targetOf = (choice: string) => (choice.startsWith('group:') ? { groupId: choice.slice(6) } : { filterId: choice.slice(7) });

export function PushForm(props: { ctx: ViewContext; canChange: boolean; template: { id: string; name: string; version: number } | null }) {
  const { ctx, canChange, template } = props;
  const [choices, setChoices] = useState<Choice[] | null>(null);
  const [target, setTarget] = useState('');
  const [name, setName] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [refresh, setRefresh] = useState(0);
  const pushes = usePaged((cursor) => api.call(pushPage, 'GET', '/v1/parameter-pushes', { query: { limit: 20, cursor } }), [refresh]);
  useThrottledLive((name, data) => (name === 'campaign.updated' && data.kind === 'parameters') || name === 'stream.resumed', pushes.reload);

  useEffect(() => {
    Promise.all([
      api.call(groupPage, 'GET', '/v1/groups', { query: { limit: 500 } }),
      api.call(filterPage, 'GET', '/v1/filters', { query: { limit: 500 } }),
    ])
      .then(([groups, filters]) =>
        setChoices([
          ...groups.items.map((g) => ({ value: `group:${g.id}`, label: `Group ${g.name} (${fmtNumber(g.members)} terminals)` })),
          ...filters.items.map((f) => ({ value: `filter:${f.id}`, label: `Filter ${f.name}: ${f.query}` })),
        ]),
      )
      .catch((err: unknown) => {
        setChoices([]);
        setError(err);
      });
  }, []);

  const start = async (e: Event) => {
    e.preventDefault();
    if (!template) return;
    const label = choices?.find((c) => c.value === target)?.label ?? target;
    const ok = await ctx.confirm({
      title: `Push ${template.name} v${template.version}?`,
      body: `Every enrolled terminal of ${label} is sent its desired values of this version now, in one phase.`,
      confirmLabel: 'Start push',
    });
    if (!ok) return;
    setBusy(true);
    setError(null);
    try {
      const body = {
        name: name.trim() || `${template.name} v${template.version}`,
        templateId: template.id,
        target: targetOf(target),
        phases: [{ name: 'all', percent: 100 }],
        successThreshold: 95,
        errorThreshold: 5,
      };
      const made = await api.call(pushView, 'POST', '/v1/parameter-pushes', { body });
      await api.call(pushView, 'POST', `/v1/parameter-pushes/${encodeURIComponent(made.id)}/start`);
      ctx.toast(`Push ${made.name} started`, 'success');
      setRefresh((r) => r + 1);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section aria-labelledby="push-title">
      <h2 id="push-title">Parameter pushes</h2>
      {canChange ? (
        <form class="card form-stack fleet-form" aria-label="Start a parameter push" onSubmit={start}>
          <p class="muted">
            {template ? `Pushes ${template.name} v${template.version}, the template chosen above.` : 'Choose a template above to push it.'}
          </p>
          <Field label="Push to" id="pp-target">
            <select id="pp-target" value={target} disabled={!choices?.length} onChange={(e) => setTarget(inputText(e))}>
              <option value="">
                {choices === null
                  ? 'Loading…'
                  : choices.length
                    ? 'Pick a group or saved filter'
                    : 'No groups or saved filters yet: make one on the Groups page'}
              </option>
              {(choices ?? []).map((c) => (
                <option value={c.value}>{c.label}</option>
              ))}
            </select>
          </Field>
          <Field label="Push name (optional)" id="pp-name">
            <input id="pp-name" value={name} maxLength={200} onInput={(e) => setName(inputText(e))} />
          </Field>
          {error ? <ErrorBox error={error} /> : null}
          <button type="submit" class="btn btn-primary" disabled={busy || !template || !target}>
            Start push
          </button>
        </form>
      ) : (
        <p class="note">Starting a parameter push needs the admin or operator role.</p>
      )}
      {pushes.error ? (
        <ErrorBox error={pushes.error} />
      ) : pushes.page ? (
        <Table
          caption="Parameter pushes"
          className="pushes-table"
          head={['Name', 'State', 'Succeeded', 'Failed', 'Created']}
          empty="No parameter pushes yet."
        >
          {pushes.page.items.map((p) => (
            <tr key={p.id} data-push-id={p.id}>
              <td>{p.name}</td>
              <td>
                <StateBadge state={p.state} />
              </td>
              <td>{fmtNumber(p.counts.succeeded ?? 0)}</td>
              <td>{fmtNumber(p.counts.failed ?? 0)}</td>
              <td>
                <Time iso={p.createdAt} />
              </td>
            </tr>
          ))}
        </Table>
      ) : null}
      <Pager label="Pages of parameter pushes" index={pushes.index} hasNext={pushes.hasNext} go={pushes.go} />
    </section>
  );
}
