/** @jsxImportSource preact */
// The fault queue's filters (applied with Apply, kept in the address) and its order (applied at once).
import { useEffect, useState } from 'preact/hooks';
import { severities } from '../../../../schemas/faults.ts';
import { faultRulesAnswer } from '../../../../server/faults/faultSchemas.ts';
import type { FaultSort } from '../../../../server/faults/faultSort.ts';
import { api, has } from '../../session.ts';
import { Field, FilterForm } from '../../ui.tsx';
import { isSort, SORT_LABELS, STATES, type FaultFilters } from './faultView.ts';

/** Rule codes and titles for the Kind filter. */
function useRuleTitles(): [string, string][] {
  const [rules, setRules] = useState<[string, string][]>([]);
  useEffect(() => {
    if (!has('GET /v1/fault-rules')) return;
    api
      .call(faultRulesAnswer, 'GET', '/v1/fault-rules')
      .then((r) => setRules(r.rules.map((rule) => [rule.code, rule.title])))
      .catch(() => undefined);
  }, []);
  return rules;
}

export function FaultFilterBar(props: {
  draft: FaultFilters;
  setDraft(f: FaultFilters): void;
  sort: FaultSort;
  onSort(s: FaultSort): void;
  onApply(): void;
  onClear(): void;
}) {
  const { draft } = props;
  const rules = useRuleTitles();
  const code = draft.code ?? '';
  const set = (k: keyof FaultFilters) => (e: Event) => {
    const el = e.currentTarget;
    if (el instanceof HTMLInputElement || el instanceof HTMLSelectElement) props.setDraft({ ...draft, [k]: el.value });
  };
  const select = (id: string, k: keyof FaultFilters, label: string, options: [string, string][]) => (
    <Field label={label} id={id}>
      <select id={id} name={k} value={draft[k] ?? ''} onChange={set(k)}>
        {options.map(([v, t]) => (
          <option value={v}>{t}</option>
        ))}
      </select>
    </Field>
  );
  const text = (id: string, k: keyof FaultFilters, label: string, placeholder?: string) => (
    <Field label={label} id={id}>
      <input id={id} name={k} value={draft[k] ?? ''} placeholder={placeholder} autocomplete="off" onInput={set(k)} />
    </Field>
  );
  const kinds: [string, string][] = [
    ['', 'Any'],
    ...rules,
    ...(code && !rules.some(([c]) => c === code) ? [[code, code] satisfies [string, string]] : []),
  ];

  return (
    <FilterForm label="Filter faults" onApply={props.onApply} onClear={props.onClear}>
      {select('ff-state', 'state', 'State', STATES)}
      {select('ff-severity', 'severity', 'Severity', [['', 'Any'], ...[...severities].reverse().map((s): [string, string] => [s, s])])}
      {select('ff-code', 'code', 'Kind', kinds)}
      {select('ff-assignee', 'assignee', 'Assignee', [
        ['', 'Anyone'],
        ['me', 'Me'],
        ['none', 'Unassigned'],
      ])}
      {text('ff-serial', 'serial', 'Serial', 'part of a serial')}
      {text('ff-device', 'deviceId', 'Device id')}
      {text('ff-model', 'model', 'Model')}
      {text('ff-merchant', 'merchantId', 'Merchant id')}
      <div class="field">
        <label for="ff-sort">Sort by</label>
        <select
          id="ff-sort"
          name="sort"
          aria-describedby="ff-sort-hint"
          value={props.sort}
          onChange={(e) => isSort(e.currentTarget.value) && props.onSort(e.currentTarget.value)}
        >
          {Object.entries(SORT_LABELS).map(([k, label]) => (
            <option value={k}>{label}</option>
          ))}
        </select>
        <span class="hint" id="ff-sort-hint">
          Applies at once
        </span>
      </div>
    </FilterForm>
  );
}
