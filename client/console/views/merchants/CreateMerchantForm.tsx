/** @jsxImportSource preact */
// Register a merchant (POST /v1/merchants): it starts pending_review until another admin approves.
// The body is checked with the API's own schema first, so a wrong field is named before sending.
import { useState } from 'preact/hooks';
import { merchantKinds } from '../../../../schemas/binding.ts';
import { merchantOut } from '../../../../server/merchants/apiSchemas.ts';
import { api } from '../../session.ts';
import { ErrorBox, Field } from '../../ui.tsx';
import type { ViewContext } from '../../viewContract.ts';
import { FIELDS, merchantBody, type Draft } from './merchantBody.ts';

export function CreateMerchantForm({ ctx, onCreated }: { ctx: ViewContext; onCreated(): void }) {
  const [draft, setDraft] = useState<Draft>({ radiusM: '200', timezone: Intl.DateTimeFormat().resolvedOptions().timeZone, kind: 'single' });
  const [problem, setProblem] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const set = (k: keyof Draft) => (e: Event) => {
    const el = e.currentTarget;
    if (el instanceof HTMLInputElement || el instanceof HTMLSelectElement) setDraft((d) => ({ ...d, [k]: el.value }));
  };

  const submit = async (e: Event) => {
    e.preventDefault();
    setError(null);
    const parsed = merchantBody(draft);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      setProblem(issue ? `${issue.path.join('.') || 'form'}: ${issue.message}` : 'the form is incomplete');
      return;
    }
    setProblem(null);
    setBusy(true);
    try {
      const m = await api.call(merchantOut, 'POST', '/v1/merchants', { body: parsed.data });
      ctx.toast(`${m.name} is filed for review`, 'success');
      ctx.announce(`${m.name} is filed; another admin reviews it`);
      setDraft((d) => ({ radiusM: d.radiusM, timezone: d.timezone, kind: d.kind }));
      onCreated();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form class="card form-grid" aria-labelledby="new-merchant-title" onSubmit={submit}>
      <h3 id="new-merchant-title">New merchant</h3>
      {FIELDS.map(([k, label, type]) => (
        <Field label={label} id={`nm-${k}`}>
          <input
            id={`nm-${k}`}
            type={type}
            step={type === 'number' ? 'any' : undefined}
            value={draft[k] ?? ''}
            autocomplete="off"
            onInput={set(k)}
          />
        </Field>
      ))}
      <Field label="Kind" id="nm-kind">
        <select id="nm-kind" value={draft.kind} onChange={set('kind')}>
          {merchantKinds.map((k) => (
            <option value={k}>{k}</option>
          ))}
        </select>
      </Field>
      {problem ? (
        <p class="form-error" role="alert">
          {problem}
        </p>
      ) : null}
      {error ? <ErrorBox error={error} /> : null}
      <div class="actions">
        <button type="submit" class="btn btn-primary" disabled={busy}>
          Create merchant
        </button>
      </div>
    </form>
  );
}
