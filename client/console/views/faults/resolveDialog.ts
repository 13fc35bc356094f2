// The question before resolving (one fault or a selection): the shell's confirmation dialog with
// an optional closing note, since a resolved fault whose condition is still there opens again.
import type { ViewContext } from '../../viewContract.ts';

/** The closing note ('' for none) when confirmed; null when cancelled. */
export async function askResolve(ctx: ViewContext, opts: { title: string; text: string; confirmLabel: string }): Promise<string | null> {
  const box = document.createElement('div');
  box.className = 'form-stack';
  const p = document.createElement('p');
  p.textContent = opts.text;
  const id = `resolve-note-${Date.now().toString(36)}`;
  const label = Object.assign(document.createElement('label'), { htmlFor: id, textContent: 'Closing note (optional)' });
  const note = Object.assign(document.createElement('textarea'), { id, rows: 3, maxLength: 4000 });
  box.append(p, label, note);
  const ok = await ctx.confirm({ title: opts.title, body: box, confirmLabel: opts.confirmLabel });
  return ok ? note.value.trim() : null;
}
