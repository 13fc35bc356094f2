/** @jsxImportSource preact */
// A new parameter template, or the next version of one (prefilled from it; the same name makes the
// next version): name, what it applies to, and each field's key, type, default and bounds. Checked
// with the API's own schema before it is sent; a refusal shows the API's code and message.
import { useState } from 'preact/hooks';
import type { z } from 'zod';
import { parameterFieldTypes, type ParameterFieldType } from '../../../../schemas/parameters.ts';
import { parameterTemplateView } from '../../../../server/parameters/parameterSchemas.ts';
import { api } from '../../session.ts';
import { ErrorBox, Field, inputText } from '../../ui.tsx';
import { checkedBody, emptyField, hasBounds, type FieldDraft, type TemplateDraft } from './templateDraft.ts';

type Template = z.infer<typeof parameterTemplateView>;

const isFieldType = (v: string): v is ParameterFieldType => parameterFieldTypes.some((t) => t === v);

function FieldRow(props: { index: number; field: FieldDraft; change(f: FieldDraft): void; remove(): void; removable: boolean }) {
  const { index, field: f, change, remove, removable } = props;
  const id = (what: string) => `pt-f${index}-${what}`;
  return (
    <fieldset class="field template-field" data-field-index={index}>
      <legend>Field {index + 1}</legend>
      <div class="filters">
        <Field label="Key" id={id('key')}>
          <input id={id('key')} value={f.key} maxLength={64} autocomplete="off" onInput={(e) => change({ ...f, key: inputText(e) })} />
        </Field>
        <Field label="Type" id={id('type')}>
          <select
            id={id('type')}
            value={f.type}
            onChange={(e) => {
              const v = inputText(e);
              if (isFieldType(v)) change({ ...f, type: v, default: v === f.type ? f.default : '' });
            }}
          >
            {parameterFieldTypes.map((t) => (
              <option value={t}>{t}</option>
            ))}
          </select>
        </Field>
        <label class="check">
          <input type="checkbox" checked={f.required} onChange={(e) => change({ ...f, required: e.currentTarget.checked })} /> Required
        </label>
        <Field label="Default" id={id('default')}>
          {f.type === 'boolean' ? (
            <select id={id('default')} value={f.default} onChange={(e) => change({ ...f, default: inputText(e) })}>
              <option value="">none</option>
              <option value="true">true</option>
              <option value="false">false</option>
            </select>
          ) : (
            <input id={id('default')} value={f.default} autocomplete="off" onInput={(e) => change({ ...f, default: inputText(e) })} />
          )}
        </Field>
        {hasBounds(f.type) ? (
          <>
            <Field label={f.type === 'string' ? 'Min length' : 'Min'} id={id('min')}>
              <input id={id('min')} type="number" step={1} value={f.min} onInput={(e) => change({ ...f, min: inputText(e) })} />
            </Field>
            <Field label={f.type === 'string' ? 'Max length' : 'Max'} id={id('max')}>
              <input id={id('max')} type="number" step={1} value={f.max} onInput={(e) => change({ ...f, max: inputText(e) })} />
            </Field>
          </>
        ) : null}
        {f.type === 'enum' ? (
          <Field label="Values (comma-separated)" id={id('values')}>
            <input id={id('values')} value={f.values} autocomplete="off" onInput={(e) => change({ ...f, values: inputText(e) })} />
          </Field>
        ) : null}
        <Field label="Field description" id={id('description')}>
          <input id={id('description')} value={f.description} maxLength={200} onInput={(e) => change({ ...f, description: inputText(e) })} />
        </Field>
      </div>
      {removable ? (
        <button type="button" class="btn btn-small" onClick={remove}>
          Remove field {index + 1}
        </button>
      ) : null}
    </fieldset>
  );
}

export function TemplateForm(props: {
  start: TemplateDraft;
  nextVersionOf: string | null;
  onCreated(t: Template): void;
  onCancel(): void;
}) {
  const { start, nextVersionOf, onCreated, onCancel } = props;
  const [draft, setDraft] = useState<TemplateDraft>(start);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const set = (patch: Partial<TemplateDraft>) => setDraft((d) => ({ ...d, ...patch }));
  const setField = (i: number, f: FieldDraft) => setDraft((d) => ({ ...d, fields: d.fields.map((x, j) => (j === i ? f : x)) }));

  const submit = async (e: Event) => {
    e.preventDefault();
    setError(null);
    const checked = checkedBody(draft);
    if ('problem' in checked) return setError(new Error(checked.problem));
    setBusy(true);
    try {
      onCreated(await api.call(parameterTemplateView, 'POST', '/v1/parameter-templates', { body: checked.body }));
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  const title = nextVersionOf ? `New version of ${nextVersionOf}` : 'New template';
  return (
    <form class="card form-stack fleet-form template-form" aria-label={title} onSubmit={submit}>
      <h3>{title}</h3>
      <p class="muted">
        {nextVersionOf
          ? 'A template is never changed: this makes the next version of the name, with no assignments yet. Change what differs below.'
          : 'A name already used makes the next version of that name. Terminals get each field’s default unless a tier assigns a value.'}
      </p>
      <Field label="Name" id="pt-name">
        <input id="pt-name" value={draft.name} maxLength={100} autocomplete="off" onInput={(e) => set({ name: inputText(e) })} />
      </Field>
      <Field label="Description" id="pt-description">
        <input id="pt-description" value={draft.description} maxLength={1000} onInput={(e) => set({ description: inputText(e) })} />
      </Field>
      <div class="filters">
        <Field label="Applies to" id="pt-applies">
          <select
            id="pt-applies"
            value={draft.appliesTo}
            onChange={(e) => {
              const v = inputText(e);
              if (v === 'model' || v === 'app') set({ appliesTo: v });
            }}
          >
            <option value="model">terminals of a model</option>
            <option value="app">terminals running a payment app</option>
          </select>
        </Field>
        <Field label={draft.appliesTo === 'model' ? 'Model' : 'Payment app (package name)'} id="pt-target">
          <input id="pt-target" value={draft.target} maxLength={64} autocomplete="off" onInput={(e) => set({ target: inputText(e) })} />
        </Field>
      </div>
      {draft.fields.map((f, i) => (
        <FieldRow
          index={i}
          field={f}
          change={(next) => setField(i, next)}
          remove={() => setDraft((d) => ({ ...d, fields: d.fields.filter((_, j) => j !== i) }))}
          removable={draft.fields.length > 1}
        />
      ))}
      <button type="button" class="btn" onClick={() => set({ fields: [...draft.fields, emptyField()] })}>
        Add field
      </button>
      {error ? <ErrorBox error={error} /> : null}
      <div class="row-actions">
        <button type="submit" class="btn btn-primary" disabled={busy}>
          {nextVersionOf ? 'Create version' : 'Create template'}
        </button>
        <button type="button" class="btn" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
