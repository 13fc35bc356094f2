/** @jsxImportSource preact */
// Which terminals a new campaign reaches: a static group, a saved filter, a fleet query, or a
// list of device ids. Groups and saved filters are offered from the first page of each.
import { useEffect, useState } from 'preact/hooks';
import { savedFilter } from '../../../../server/groups/filterRoutes.ts';
import { group } from '../../../../server/groups/groupRoutes.ts';
import { page } from '../../../../server/http/schemas.ts';
import { api } from '../../session.ts';
import { Field } from '../../ui.tsx';
import { targetKinds, type CampaignDraft, type TargetKind } from './campaignRules.ts';

const groupPage = page(group);
const filterPage = page(savedFilter);
const kindLabels: Record<TargetKind, string> = { group: 'Group', filter: 'Saved filter', query: 'Query', devices: 'Device ids' };

type Choice = { id: string; label: string };

function useChoices(load: () => Promise<Choice[]>): Choice[] | null {
  const [choices, setChoices] = useState<Choice[] | null>(null);
  useEffect(() => {
    load()
      .then(setChoices)
      .catch(() => setChoices([]));
  }, []);
  return choices;
}

export function TargetPicker(props: { draft: CampaignDraft; set(patch: Partial<CampaignDraft>): void }) {
  const { draft, set } = props;
  const groups = useChoices(async () =>
    (await api.call(groupPage, 'GET', '/v1/groups', { query: { limit: 500 } })).items.map((g) => ({
      id: g.id,
      label: `${g.name} (${g.members} terminals)`,
    })),
  );
  const filters = useChoices(async () =>
    (await api.call(filterPage, 'GET', '/v1/filters', { query: { limit: 500 } })).items.map((f) => ({
      id: f.id,
      label: `${f.name}: ${f.query}`,
    })),
  );
  const value = (e: Event) =>
    e.currentTarget instanceof HTMLInputElement ||
    e.currentTarget instanceof HTMLSelectElement ||
    e.currentTarget instanceof HTMLTextAreaElement
      ? e.currentTarget.value
      : '';
  const select = (id: string, label: string, choices: Choice[] | null, current: string, patch: (v: string) => Partial<CampaignDraft>) => (
    <Field label={label} id={id}>
      <select id={id} value={current} onChange={(e) => set(patch(value(e)))} disabled={!choices?.length}>
        <option value="">{choices === null ? 'Loading…' : choices.length ? 'Pick one' : 'None yet'}</option>
        {(choices ?? []).map((c) => (
          <option value={c.id}>{c.label}</option>
        ))}
      </select>
    </Field>
  );

  return (
    <fieldset class="form-stack">
      <legend>Target</legend>
      <div class="segmented" role="radiogroup" aria-label="Target by">
        {targetKinds.map((k) => (
          <>
            <input
              type="radio"
              id={`tk-${k}`}
              name="targetKind"
              value={k}
              checked={draft.targetKind === k}
              onChange={() => set({ targetKind: k })}
            />
            <label for={`tk-${k}`}>{kindLabels[k]}</label>
          </>
        ))}
      </div>
      {draft.targetKind === 'group' ? select('t-group', 'Target group', groups, draft.groupId, (groupId) => ({ groupId })) : null}
      {draft.targetKind === 'filter'
        ? select('t-filter', 'Target saved filter', filters, draft.filterId, (filterId) => ({ filterId }))
        : null}
      {draft.targetKind === 'query' ? (
        <Field label="Fleet query" id="t-query">
          <textarea
            id="t-query"
            rows={2}
            value={draft.query}
            placeholder='model = "PAX-A920" and fw < "2.1.0"'
            onInput={(e) => set({ query: value(e) })}
          />
        </Field>
      ) : null}
      {draft.targetKind === 'devices' ? (
        <Field label="Device ids (one a line, or separated by commas)" id="t-devices">
          <textarea id="t-devices" rows={3} value={draft.deviceIds} onInput={(e) => set({ deviceIds: value(e) })} />
        </Field>
      ) : null}
    </fieldset>
  );
}
