/** @jsxImportSource preact */
// One template: its versions (the same name), its fields with types, defaults and bounds, and its
// assignments lowest tier first under the precedence the server computes desired values by.
import { useEffect, useState } from 'preact/hooks';
import type { z } from 'zod';
import type { ParameterField } from '../../../../schemas/parameters.ts';
import { page } from '../../../../server/http/schemas.ts';
import { parameterTemplateView, templateDetail } from '../../../../server/parameters/parameterSchemas.ts';
import { api } from '../../session.ts';
import { ErrorBox, Table } from '../../ui.tsx';
import { AssignmentForm } from './AssignmentForm.tsx';
import { tierRank, tiersLowestFirst } from './precedence.ts';
import { appliesToText } from './TemplateList.tsx';

const versionsPage = page(parameterTemplateView);
type Detail = z.infer<typeof templateDetail>;

const bounds = (f: ParameterField) =>
  f.type === 'enum'
    ? (f.values ?? []).join(' | ')
    : [f.min !== undefined ? `min ${f.min}` : '', f.max !== undefined ? `max ${f.max}` : ''].filter(Boolean).join(', ') || '—';
const shown = (v: unknown) => (v === undefined ? '—' : JSON.stringify(v));

export function Precedence() {
  return (
    <div class="card precedence">
      <h3>Which value a terminal gets</h3>
      <p>
        Lowest first; a later tier overrides an earlier one for the keys it sets (it need not set all). A value that does not fit the
        template is skipped.
      </p>
      <ol>
        {tiersLowestFirst.map((t) => (
          <li data-tier={t.tier}>
            <strong>{t.tier}</strong>: {t.meaning}
          </li>
        ))}
      </ol>
    </div>
  );
}

export function TemplateDetail(props: {
  id: string;
  canChange: boolean;
  select(id: string): void;
  onNewVersion(t: Detail): void;
  onAssigned(what: string): void;
}) {
  const { id, canChange, select, onNewVersion, onAssigned } = props;
  const [detail, setDetail] = useState<Detail | null>(null);
  const [versions, setVersions] = useState<z.infer<typeof parameterTemplateView>[]>([]);
  const [error, setError] = useState<unknown>(null);
  const [refresh, setRefresh] = useState(0);

  useEffect(() => {
    setError(null);
    api
      .call(templateDetail, 'GET', `/v1/parameter-templates/${encodeURIComponent(id)}`)
      .then(async (d) => {
        setDetail(d);
        const named = await api.call(versionsPage, 'GET', '/v1/parameter-templates', { query: { name: d.name, limit: 100 } });
        // Listed by id, which is random: the chips read v1, v2, … in order.
        setVersions(named.items.sort((a, b) => a.version - b.version));
      })
      .catch(setError);
  }, [id, refresh]);

  if (error) return <ErrorBox error={error} />;
  if (!detail) return <p class="loading">Loading the template…</p>;
  const assignments = [...detail.assignments].sort((a, b) => tierRank(a.tier) - tierRank(b.tier) || a.targetId.localeCompare(b.targetId));
  return (
    <section class="card" aria-labelledby="template-title" data-template-id={detail.id}>
      <h2 id="template-title">
        {detail.name} v{detail.version}
      </h2>
      <p class="muted">
        For {appliesToText(detail.appliesTo)}. {detail.description ?? ''}
      </p>
      <nav class="chips" aria-label="Versions">
        {versions.map((v) => (
          <button type="button" class="chip" aria-pressed={v.id === detail.id} onClick={() => select(v.id)}>
            v{v.version}
          </button>
        ))}
      </nav>
      {canChange ? (
        <button type="button" class="btn" onClick={() => onNewVersion(detail)}>
          New version
        </button>
      ) : null}
      <Table
        caption={`Fields of ${detail.name} v${detail.version}`}
        className="fields-table"
        head={['Key', 'Type', 'Required', 'Default', 'Bounds / values', 'Description']}
      >
        {detail.fields.map((f) => (
          <tr key={f.key} data-key={f.key}>
            <td>
              <code>{f.key}</code>
            </td>
            <td>{f.type}</td>
            <td>{f.required ? 'yes' : 'no'}</td>
            <td>{shown(f.default)}</td>
            <td>{bounds(f)}</td>
            <td>{f.description ?? ''}</td>
          </tr>
        ))}
      </Table>
      <h3>Assignments</h3>
      <Table
        caption={`Assignments of ${detail.name} v${detail.version}`}
        className="assignments-table"
        head={['Tier', 'Target', 'Values']}
        empty="No values assigned: every terminal gets the defaults. Set a tier's values below; a new version starts with none."
      >
        {assignments.map((a) => (
          <tr key={`${a.tier}/${a.targetId}`} data-tier={a.tier} data-target={a.targetId}>
            <td>{a.tier}</td>
            <td>
              <code>{a.targetId}</code>
            </td>
            <td>
              <code>{JSON.stringify(a.values)}</code>
            </td>
          </tr>
        ))}
      </Table>
      <Precedence />
      {canChange ? (
        <AssignmentForm
          templateId={detail.id}
          onSaved={(what) => {
            setRefresh((r) => r + 1);
            onAssigned(what);
          }}
        />
      ) : null}
    </section>
  );
}
