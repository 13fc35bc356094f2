/** @jsxImportSource preact */
// Parameter templates, paged by id (every version is a template of its own), each with what it
// applies to and how many fields it has; choosing one opens its detail.
import { page } from '../../../../server/http/schemas.ts';
import { parameterTemplateView } from '../../../../server/parameters/parameterSchemas.ts';
import { api } from '../../session.ts';
import { ErrorBox, fmtNumber, Pager, Table, Time } from '../../ui.tsx';
import { usePaged } from '../../usePaged.ts';

const PAGE = 50;
const templatePage = page(parameterTemplateView);

export const appliesToText = (a: { model: string } | { app: string }) => ('model' in a ? `model ${a.model}` : `app ${a.app}`);

export function TemplateList(props: { selected: string | null; select(id: string): void; refresh: number; canCreate: boolean }) {
  const { selected, select, refresh, canCreate } = props;
  const list = usePaged(
    (cursor) => api.call(templatePage, 'GET', '/v1/parameter-templates', { query: { limit: PAGE, cursor } }),
    [refresh],
  );
  return (
    <section aria-labelledby="templates-title">
      <h2 id="templates-title">Templates</h2>
      <div aria-live="polite" aria-busy={list.busy ? 'true' : 'false'}>
        {list.error ? (
          <ErrorBox error={list.error} />
        ) : list.page ? (
          <Table
            caption="Parameter templates"
            className="templates-table"
            head={['Name', 'Version', 'Applies to', 'Fields', 'Created']}
            empty={
              canCreate
                ? 'No parameter templates yet. Create one with New template: its name, the model or app it applies to, and its fields with their types, defaults and bounds.'
                : 'No parameter templates yet. An admin or operator creates them (New template on this page, or POST /v1/parameter-templates).'
            }
          >
            {list.page.items.map((t) => (
              <tr key={t.id} data-template-id={t.id} aria-selected={selected === t.id ? 'true' : undefined}>
                <td>
                  <button type="button" class="btn btn-quiet" aria-pressed={selected === t.id} onClick={() => select(t.id)}>
                    {t.name}
                  </button>
                </td>
                <td>v{t.version}</td>
                <td>{appliesToText(t.appliesTo)}</td>
                <td>{fmtNumber(t.fields.length)}</td>
                <td>
                  <Time iso={t.createdAt} />
                </td>
              </tr>
            ))}
          </Table>
        ) : null}
      </div>
      <Pager label="Pages of templates" index={list.index} hasNext={list.hasNext} go={list.go} />
    </section>
  );
}
