// The body of a decision's confirmation (the shell's <dialog> takes a DOM node): what the decision
// does, and a note, or a reason where the API requires one (rejecting a merchant).
export function decisionBody(what: string, opts: { id: string; reasonRequired: boolean }): { body: HTMLElement; text(): string } {
  const body = document.createElement('div');
  body.className = 'form-stack';
  const note = Object.assign(document.createElement('textarea'), { id: opts.id, rows: 3, maxLength: 500, required: opts.reasonRequired });
  const label = Object.assign(document.createElement('label'), {
    htmlFor: opts.id,
    textContent: opts.reasonRequired ? 'Reason (required)' : 'Note (optional)',
  });
  body.append(Object.assign(document.createElement('p'), { textContent: what }), label, note);
  return { body, text: () => note.value.trim() };
}
