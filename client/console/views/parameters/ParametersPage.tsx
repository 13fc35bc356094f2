/** @jsxImportSource preact */
// /ui/parameters (docs/parameters.md): templates with their versions and fields (a new template,
// or the next version of one), the values each tier assigns and the precedence that picks a
// terminal's desired value, the terminals whose reported set drifts from it, and a push of a
// template to a group or saved filter. The chosen template is kept in the address (?template=).
import { useEffect, useState } from 'preact/hooks';
import { parameterTemplateView } from '../../../../server/parameters/parameterSchemas.ts';
import { api, isRole } from '../../session.ts';
import type { ViewContext } from '../../viewContract.ts';
import { DriftList } from './DriftList.tsx';
import { PushForm } from './PushForm.tsx';
import { emptyDraft, draftOf, type TemplateDraft } from './templateDraft.ts';
import { TemplateDetail } from './TemplateDetail.tsx';
import { TemplateForm } from './TemplateForm.tsx';
import { TemplateList } from './TemplateList.tsx';

type Chosen = { id: string; name: string; version: number };
type Editing = { start: TemplateDraft; nextVersionOf: string | null };

export function ParametersPage({ ctx }: { ctx: ViewContext }) {
  const [selected, setSelected] = useState<string | null>(ctx.query.get('template'));
  const [chosen, setChosen] = useState<Chosen | null>(null);
  const [driftRefresh, setDriftRefresh] = useState(0);
  const [listRefresh, setListRefresh] = useState(0);
  const [editing, setEditing] = useState<Editing | null>(null);
  // Assignments and pushes are the admins' and operators' (the server refuses the others).
  const canChange = isRole('admin', 'operator');

  useEffect(() => {
    if (!selected) return setChosen(null);
    api
      .call(parameterTemplateView, 'GET', `/v1/parameter-templates/${encodeURIComponent(selected)}`)
      .then((t) => setChosen({ id: t.id, name: t.name, version: t.version }))
      .catch(() => setChosen(null));
  }, [selected]);

  const select = (id: string) => {
    history.replaceState(null, '', `/ui/parameters?template=${encodeURIComponent(id)}`);
    setSelected(id);
  };

  return (
    <>
      <p class="lede">
        A template names the fields terminals take; tiers assign values; each terminal&apos;s desired set is pushed with a parameter push
        and compared with what it reports.
      </p>
      {canChange && !editing ? (
        <button type="button" class="btn btn-primary" onClick={() => setEditing({ start: emptyDraft(), nextVersionOf: null })}>
          New template
        </button>
      ) : null}
      {editing ? (
        <TemplateForm
          // A new start (another template's next version) is a new form, not the old one's state.
          key={`${editing.nextVersionOf ?? ''}:${selected ?? ''}`}
          start={editing.start}
          nextVersionOf={editing.nextVersionOf}
          onCancel={() => setEditing(null)}
          onCreated={(t) => {
            setEditing(null);
            setListRefresh((r) => r + 1);
            ctx.toast(`Template ${t.name} v${t.version} created`, 'success');
            ctx.announce(`Template ${t.name} v${t.version} created`);
            select(t.id);
          }}
        />
      ) : null}
      <TemplateList selected={selected} select={select} refresh={listRefresh} canCreate={canChange} />
      {selected ? (
        <TemplateDetail
          id={selected}
          canChange={canChange}
          select={select}
          onNewVersion={(t) => setEditing({ start: draftOf(t), nextVersionOf: `${t.name} v${t.version}` })}
          onAssigned={(what) => {
            ctx.toast(`Values saved for ${what}`, 'success');
            ctx.announce(`Values saved for ${what}`);
            setDriftRefresh((r) => r + 1);
          }}
        />
      ) : (
        <p class="muted">Choose a template to see its fields, versions and assignments.</p>
      )}
      <DriftList refresh={driftRefresh} />
      <PushForm ctx={ctx} canChange={canChange} template={chosen} />
    </>
  );
}
