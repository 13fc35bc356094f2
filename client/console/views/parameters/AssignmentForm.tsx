/** @jsxImportSource preact */
// Set one tier's values for a template (PUT …/assignments): the tier, its target, the values as
// JSON. The server checks each value against the template and names the path that does not fit.
import { useState } from 'preact/hooks';
import { assignableTiers, type AssignableTier } from '../../../../schemas/parameters.ts';
import { assignmentAnswer } from '../../../../server/parameters/parameterSchemas.ts';
import { api } from '../../session.ts';
import { ErrorBox, Field, inputText } from '../../ui.tsx';
import { parseValues, targetLabel } from './precedence.ts';

const isTier = (v: string): v is AssignableTier => assignableTiers.some((t) => t === v);

export function AssignmentForm({ templateId, onSaved }: { templateId: string; onSaved(what: string): void }) {
  const [tier, setTier] = useState<AssignableTier>('model');
  const [targetId, setTargetId] = useState('');
  const [valuesText, setValuesText] = useState('{}');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: Event) => {
    e.preventDefault();
    const parsed = parseValues(valuesText);
    if ('problem' in parsed) return setError(new Error(parsed.problem));
    setBusy(true);
    setError(null);
    try {
      await api.call(assignmentAnswer, 'PUT', `/v1/parameter-templates/${encodeURIComponent(templateId)}/assignments`, {
        body: { tier, targetId: targetId.trim(), values: parsed.values },
      });
      onSaved(`${tier} ${targetId.trim()}`);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form class="card form-stack fleet-form" aria-label="Set values for a tier" onSubmit={submit}>
      <h3>Set values for a tier</h3>
      <Field label="Tier" id="pa-tier">
        <select
          id="pa-tier"
          value={tier}
          onChange={(e) => {
            const v = inputText(e);
            if (isTier(v)) setTier(v);
          }}
        >
          {assignableTiers.map((t) => (
            <option value={t}>{t}</option>
          ))}
        </select>
      </Field>
      <Field label={targetLabel[tier]} id="pa-target">
        <input id="pa-target" value={targetId} maxLength={100} required onInput={(e) => setTargetId(inputText(e))} />
      </Field>
      <Field label="Values (JSON object; replaces this tier's set for the target)" id="pa-values">
        <textarea id="pa-values" rows={3} spellcheck={false} value={valuesText} onInput={(e) => setValuesText(inputText(e))} />
      </Field>
      {error ? <ErrorBox error={error} /> : null}
      <button type="submit" class="btn btn-primary" disabled={busy || !targetId.trim()}>
        Save values
      </button>
    </form>
  );
}
