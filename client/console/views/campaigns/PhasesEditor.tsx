/** @jsxImportSource preact */
// A new campaign's phases (name and percent of the target, adding up to 100) and its thresholds.
import { Field } from '../../ui.tsx';
import type { CampaignDraft } from './campaignRules.ts';

export function PhasesEditor(props: { draft: CampaignDraft; set(patch: Partial<CampaignDraft>): void }) {
  const { draft, set } = props;
  const value = (e: Event) => (e.currentTarget instanceof HTMLInputElement ? e.currentTarget.value : '');
  const setPhase = (i: number, patch: Partial<CampaignDraft['phases'][number]>) =>
    set({ phases: draft.phases.map((p, k) => (k === i ? { ...p, ...patch } : p)) });
  const sum = draft.phases.reduce((a, p) => a + (Number(p.percent) || 0), 0);
  return (
    <fieldset class="form-stack">
      <legend>Phases and thresholds</legend>
      <ol class="phase-editor">
        {draft.phases.map((p, i) => (
          <li key={i} class="field-row">
            <Field label={`Phase ${i + 1} name`} id={`p-name-${i}`}>
              <input id={`p-name-${i}`} type="text" value={p.name} onInput={(e) => setPhase(i, { name: value(e) })} />
            </Field>
            <Field label={`Phase ${i + 1} percent`} id={`p-pct-${i}`}>
              <input
                id={`p-pct-${i}`}
                type="number"
                min="0"
                max="100"
                step="any"
                value={p.percent}
                onInput={(e) => setPhase(i, { percent: value(e) })}
              />
            </Field>
            {draft.phases.length > 1 ? (
              <button
                type="button"
                class="btn btn-small"
                aria-label={`Remove phase ${i + 1}`}
                onClick={() => set({ phases: draft.phases.filter((_, k) => k !== i) })}
              >
                Remove
              </button>
            ) : null}
          </li>
        ))}
      </ol>
      <p class={`small ${Math.abs(sum - 100) < 1e-9 ? 'muted' : 'warn'}`} aria-live="polite">
        The percents add up to {sum}%{Math.abs(sum - 100) < 1e-9 ? '.' : '; they must add up to 100%.'}
      </p>
      {draft.phases.length < 20 ? (
        <button
          type="button"
          class="btn btn-small"
          onClick={() => set({ phases: [...draft.phases, { name: `phase ${draft.phases.length + 1}`, percent: '' }] })}
        >
          Add a phase
        </button>
      ) : null}
      <Field label="Success threshold (% of a phase that must succeed before the next starts)" id="c-success">
        <input
          id="c-success"
          type="number"
          min="0"
          max="100"
          step="any"
          value={draft.successThreshold}
          onInput={(e) => set({ successThreshold: value(e) })}
        />
      </Field>
      <Field label="Error threshold (% of a phase failed above which the campaign stops)" id="c-error">
        <input
          id="c-error"
          type="number"
          min="0"
          max="100"
          step="any"
          value={draft.errorThreshold}
          onInput={(e) => set({ errorThreshold: value(e) })}
        />
      </Field>
      <Field label="Start at (optional; otherwise start it from its page)" id="c-start-at">
        <input id="c-start-at" type="datetime-local" value={draft.startAt} onInput={(e) => set({ startAt: value(e) })} />
      </Field>
    </fieldset>
  );
}
