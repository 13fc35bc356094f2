/** @jsxImportSource preact */
// One group's members, paged, each serial to its device page; terminals added by serial or id
// (serials looked up exactly with a fleet query first, so a typo is named before anything changes).
import { useState } from 'preact/hooks';
import { device } from '../../../../server/devices/deviceRoutes.ts';
import { groupMember, groupMembersChanged } from '../../../../server/groups/groupRoutes.ts';
import { page } from '../../../../server/http/schemas.ts';
import { api } from '../../session.ts';
import { ErrorBox, Field, fmtNumber, Pager, StateBadge, Table, Time } from '../../ui.tsx';
import { usePaged } from '../../usePaged.ts';
import type { ViewContext } from '../../viewContract.ts';
import { MAX_REFS, parseMemberRefs, serialQuery, unknownSerials } from './fleetInput.ts';
import type { Group } from './GroupList.tsx';

const PAGE = 50;
const memberPage = page(groupMember);
const devicePage = page(device);

/** The device ids of what was typed, or why not: a serial no terminal of the caller's has. */
async function idsOf(text: string): Promise<string[]> {
  const { ids, serials } = parseMemberRefs(text);
  if (ids.length + serials.length > MAX_REFS) throw new Error(`Add at most ${MAX_REFS} terminals at a time.`);
  if (!serials.length) return ids;
  const found = (await api.call(devicePage, 'GET', '/v1/devices', { query: { query: serialQuery(serials), limit: 500 } })).items;
  const missing = unknownSerials(serials, found);
  if (missing.length) throw new Error(`No terminal has the serial ${missing.join(', ')}.`);
  return [...new Set([...ids, ...found.map((d) => d.id)])];
}

function AddMembersForm({ g, onAdded }: { g: Group; onAdded(added: number): void }) {
  const [text, setText] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const add = await idsOf(text);
      const after = await api.call(groupMembersChanged, 'POST', `/v1/groups/${encodeURIComponent(g.id)}/members`, { body: { add } });
      setText('');
      onAdded(after.added);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="card form-stack fleet-form" aria-label={`Add terminals to ${g.name}`} onSubmit={submit}>
      <Field label="Add terminals (serials or device ids, separated by commas or lines)" id="gm-add">
        <textarea
          id="gm-add"
          rows={3}
          value={text}
          placeholder={'PAX-000123\ndev_Xk2…'}
          onInput={(e) => e.currentTarget instanceof HTMLTextAreaElement && setText(e.currentTarget.value)}
        />
      </Field>
      {error ? <ErrorBox error={error} /> : null}
      <button type="submit" class="btn btn-primary" disabled={busy || !text.trim()}>
        Add to group
      </button>
    </form>
  );
}

export function GroupMembers({ ctx, canChange, g, onChanged }: { ctx: ViewContext; canChange: boolean; g: Group; onChanged(): void }) {
  const [refresh, setRefresh] = useState(0);
  const list = usePaged(
    (cursor) => api.call(memberPage, 'GET', `/v1/groups/${encodeURIComponent(g.id)}/members`, { query: { limit: PAGE, cursor } }),
    [g.id, refresh],
  );
  return (
    <section class="card" aria-labelledby="members-title" data-group-id={g.id}>
      <h2 id="members-title">Members of {g.name}</h2>
      <p class="muted">
        {fmtNumber(g.members)} terminals. A campaign or parameter push that targets this group takes its enrolled members.
      </p>
      {canChange ? (
        <AddMembersForm
          g={g}
          onAdded={(n) => {
            ctx.toast(`${fmtNumber(n)} terminals added to ${g.name}`, 'success');
            ctx.announce(`${n} terminals added`);
            setRefresh((r) => r + 1);
            onChanged();
          }}
        />
      ) : null}
      <div aria-live="polite" aria-busy={list.busy ? 'true' : 'false'}>
        {list.error ? (
          <ErrorBox error={list.error} />
        ) : list.page ? (
          <Table
            caption={`Members of ${g.name}`}
            className="members-table"
            head={['Serial', 'Model', 'Status', 'Added']}
            empty="No terminals in this group yet. Add them above by serial or device id."
          >
            {list.page.items.map((m) => (
              <tr key={m.id} data-device-id={m.id}>
                <td>
                  <a href={`/ui/devices/${encodeURIComponent(m.id)}`}>{m.serial}</a>
                </td>
                <td>{m.model}</td>
                <td>
                  <StateBadge state={m.status} />
                </td>
                <td>
                  <Time iso={m.addedAt} />
                </td>
              </tr>
            ))}
          </Table>
        ) : null}
      </div>
      <Pager label="Pages of members" index={list.index} hasNext={list.hasNext} go={list.go} />
    </section>
  );
}
