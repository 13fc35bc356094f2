/** @jsxImportSource preact */
// Allocation (划拨): the ticked terminals, or serials typed in, move to a node of the subtree after
// a confirmation; the answer is shown per terminal, each refusal with the API's code.
import { useState } from 'preact/hooks';
import type { z } from 'zod';
import { allocationOut } from '../../../../server/orgs/orgSchemas.ts';
import { api } from '../../session.ts';
import { ErrorBox, Field, Table } from '../../ui.tsx';
import type { ViewContext } from '../../viewContract.ts';
import { serialsOf, type Org } from './orgTree.ts';

type Outcome = z.infer<typeof allocationOut> & { asked: number; to: Org };

interface Props {
  ctx: ViewContext;
  nodes: Org[];
  from: Org;
  picked: string[];
  onAllocated(): void;
}

export function AllocationForm({ ctx, nodes, from, picked, onAllocated }: Props) {
  const targets = nodes.filter((n) => n.id !== from.id);
  const [to, setTo] = useState(targets.find((n) => n.parentId === from.id)?.id ?? targets[0]?.id ?? '');
  const [serialText, setSerialText] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  const [busy, setBusy] = useState(false);

  if (!targets.length) return <p class="empty">There is no other node to allocate to: create an agent first.</p>;
  const serials = serialsOf(serialText);
  const body = picked.length ? { deviceIds: picked } : { serials };
  const count = picked.length || serials.length;

  const submit = async (e: Event) => {
    e.preventDefault();
    setError(null);
    const target = nodes.find((n) => n.id === to);
    if (!target) return setError(new Error('Pick the node the terminals go to.'));
    if (!count) return setError(new Error('Tick unbound terminals in the list above, or type their serials.'));
    const ok = await ctx.confirm({
      title: `Allocate ${count} terminal${count === 1 ? '' : 's'} to ${target.name}?`,
      body: `${picked.length ? 'The ticked terminals' : 'The terminals with these serials'} move to ${target.name}. Bound terminals are refused: they move only with their merchant.`,
      confirmLabel: 'Allocate',
    });
    if (!ok) return;
    setBusy(true);
    try {
      const answer = await api.call(allocationOut, 'POST', `/v1/orgs/${encodeURIComponent(target.id)}/allocations`, { body });
      setOutcome({ ...answer, asked: count, to: target });
      setSerialText('');
      ctx.announce(`${answer.moved} moved to ${target.name}, ${answer.refused.length} refused`);
      onAllocated();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section aria-labelledby="allocate-title">
      <h3 id="allocate-title">Allocate terminals</h3>
      <form class="filters allocate" onSubmit={submit}>
        <Field label="Serials (one a line; ignored while terminals are ticked)" id="alloc-serials">
          <textarea
            id="alloc-serials"
            rows={3}
            value={serialText}
            disabled={picked.length > 0}
            onInput={(e) => setSerialText(e.currentTarget.value)}
          />
        </Field>
        <Field label="Move to" id="alloc-target">
          <select id="alloc-target" value={to} onChange={(e) => setTo(e.currentTarget.value)}>
            {targets.map((n) => (
              <option value={n.id}>{`${'— '.repeat(n.depth)}${n.name}`}</option>
            ))}
          </select>
        </Field>
        <div class="field field-actions">
          <button type="submit" class="btn btn-primary" disabled={busy}>
            {picked.length ? `Allocate ${picked.length} ticked` : 'Allocate'}
          </button>
        </div>
      </form>
      {error ? <ErrorBox error={error} /> : null}
      {outcome ? (
        <div class="allocation-result" role="status" data-moved={outcome.moved} data-refused={outcome.refused.length}>
          <p>
            {outcome.moved} of {outcome.asked} moved to {outcome.to.name}; {outcome.refused.length} refused.
          </p>
          {outcome.refused.length ? (
            <Table caption="Refused terminals" className="allocation-refused" head={['Terminal', 'Code']}>
              {outcome.refused.map((r) => (
                <tr key={r.id} data-refused-id={r.id} data-code={r.code}>
                  <td>{r.id}</td>
                  <td>
                    <code class="error-code">{r.code}</code>{' '}
                    {r.code === 'terminal_bound' ? 'bound to a merchant: move the merchant instead' : 'no such terminal in your subtree'}
                  </td>
                </tr>
              ))}
            </Table>
          ) : null}
        </div>
      ) : null}
    </section>
  );
}
