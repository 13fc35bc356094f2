/** @jsxImportSource preact */
// A fault's notes and assignment, opened under its row: notes newest last, a note form, and an
// assignment to me, nobody or (for admins) any active user. Typing survives live reloads because
// the row keeps this component mounted.
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { UserPageSchema } from '../../../../server/auth/userSchemas.ts';
import { fault, faultNote, faultWithNotes } from '../../../../server/faults/faultSchemas.ts';
import { api, has, isRole } from '../../session.ts';
import { ErrorBox, Time } from '../../ui.tsx';
import type { Me, ViewContext } from '../../viewContract.ts';
import type { ListedFault } from './faultView.ts';
import type { z } from 'zod';

type Note = z.infer<typeof faultNote>;
type Person = { id: string; name: string; role: string };

/** Active users to assign to (the user list is for admins; others can take a fault themselves). */
export function usePeople(): Person[] {
  const [people, setPeople] = useState<Person[]>([]);
  useEffect(() => {
    if (!isRole('admin') || !has('GET /v1/users')) return;
    api
      .call(UserPageSchema, 'GET', '/v1/users', { query: { limit: 200 } })
      .then((r) => setPeople(r.items.filter((u) => !u.disabled)))
      .catch(() => undefined);
  }, []);
  return people;
}

export function FaultDetail(props: {
  f: ListedFault;
  ctx: ViewContext;
  canTriage: boolean;
  people: Person[];
  me: Me | null;
  notesVersion: number;
  onChanged(): void;
  colSpan: number;
}) {
  const { f, ctx, canTriage } = props;
  const [notes, setNotes] = useState<Note[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [text, setText] = useState('');
  const [assignTo, setAssignTo] = useState('');
  const textarea = useRef<HTMLTextAreaElement>(null);
  const assignSelect = useRef<HTMLSelectElement>(null);
  const enc = encodeURIComponent(f.id);

  const loadNotes = () =>
    api
      .call(faultWithNotes, 'GET', `/v1/faults/${enc}`)
      .then((full) => (setNotes(full.notes), setError(null)))
      .catch(setError);
  useEffect(() => void loadNotes(), [f.id, props.notesVersion]);
  // Opened from its row's button: the keyboard goes on into the note in the frame it appears.
  useLayoutEffect(() => textarea.current?.focus(), []);

  const addNote = async (e: Event) => {
    e.preventDefault();
    if (!text.trim()) return textarea.current?.focus();
    try {
      await api.call(faultNote, 'POST', `/v1/faults/${enc}/notes`, { body: { text: text.trim() } });
      setText('');
      ctx.announce('Note added.');
      await loadNotes();
    } catch (err) {
      ctx.toast(`Note failed: ${err instanceof Error ? err.message : String(err)}`, 'error');
    }
  };
  const assign = async (e: Event) => {
    e.preventDefault();
    if (!assignTo) return assignSelect.current?.focus();
    const { me } = props;
    const assigneeId = assignTo === '__me' ? (me?.id ?? null) : assignTo === '__none' ? null : assignTo;
    try {
      await api.call(fault, 'POST', `/v1/faults/${enc}/assign`, { body: { assigneeId } });
      ctx.announce(assigneeId ? 'Fault assigned.' : 'Fault unassigned.');
      ctx.toast(assigneeId ? 'Assigned.' : 'Unassigned.', 'success');
      props.onChanged();
    } catch (err) {
      ctx.toast(`Assign failed: ${err instanceof Error ? err.message : String(err)}`, 'error');
    }
  };

  return (
    <tr class="fault-detail" id={`fd-${f.id}`}>
      <td colSpan={props.colSpan}>
        <div class="detail-grid">
          <div>
            <h3>Notes</h3>
            <ol class="notes">
              {error ? (
                <li>
                  <ErrorBox error={error} />
                </li>
              ) : notes?.length ? (
                notes.map((n) => (
                  <li key={n.id}>
                    <span class="note-meta">
                      {n.authorName ?? n.authorId ?? 'system'} · <Time iso={n.ts} />
                    </span>
                    <p>{n.text}</p>
                  </li>
                ))
              ) : notes ? (
                <li class="muted">No notes yet.</li>
              ) : null}
            </ol>
            <form class="note-form" onSubmit={addNote}>
              <label for={`note-${f.id}`}>Add a note</label>
              <textarea
                id={`note-${f.id}`}
                ref={textarea}
                rows={2}
                maxLength={4000}
                required
                value={text}
                onInput={(e) => setText(e.currentTarget.value)}
              />
              <button type="submit" class="btn btn-small btn-primary" disabled={!canTriage}>
                Add note
              </button>
            </form>
          </div>
          <div>
            <h3>Assignment</h3>
            <form class="assign-form" onSubmit={assign}>
              <label for={`assign-${f.id}`}>Assign to</label>
              <select id={`assign-${f.id}`} ref={assignSelect} value={assignTo} onChange={(e) => setAssignTo(e.currentTarget.value)}>
                <option value="">— choose —</option>
                <option value="__me">Me ({props.me?.name ?? 'me'})</option>
                <option value="__none">Nobody (unassign)</option>
                {props.people.map((u) => (
                  <option value={u.id}>
                    {u.name} ({u.role})
                  </option>
                ))}
              </select>
              <button type="submit" class="btn btn-small" disabled={!canTriage}>
                Assign
              </button>
            </form>
          </div>
        </div>
      </td>
    </tr>
  );
}
