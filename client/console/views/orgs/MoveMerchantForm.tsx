/** @jsxImportSource preact */
// Moving a merchant of the node to another node: the merchant and every terminal bound to it go
// together (POST /v1/merchants/{id}/move), which is how a bound terminal changes node.
import { useState } from 'preact/hooks';
import { page } from '../../../../server/http/schemas.ts';
import { merchantOut } from '../../../../server/merchants/apiSchemas.ts';
import { merchantMoveOut } from '../../../../server/orgs/orgSchemas.ts';
import { api } from '../../session.ts';
import { ErrorBox, Field } from '../../ui.tsx';
import { usePaged } from '../../usePaged.ts';
import type { ViewContext } from '../../viewContract.ts';
import type { Org } from './orgTree.ts';

const merchantPage = page(merchantOut);

export function MoveMerchantForm({ ctx, nodes, from, onMoved }: { ctx: ViewContext; nodes: Org[]; from: Org; onMoved(): void }) {
  const list = usePaged((cursor) => api.call(merchantPage, 'GET', '/v1/merchants', { query: { limit: 500, cursor } }), [from.id]);
  const own = (list.page?.items ?? []).filter((m) => m.orgId === from.id);
  const targets = nodes.filter((n) => n.id !== from.id);
  const [merchantId, setMerchantId] = useState('');
  const [to, setTo] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState<string | null>(null);

  if (list.error) return <ErrorBox error={list.error} />;
  if (!list.page) return null;
  if (!own.length || !targets.length) return <p class="empty">{from.name} has no merchant of its own to move.</p>;
  const merchant = own.find((m) => m.id === merchantId) ?? own[0];
  const target = nodes.find((n) => n.id === to) ?? targets[0];

  const submit = async (e: Event) => {
    e.preventDefault();
    setError(null);
    if (!merchant || !target) return;
    const ok = await ctx.confirm({
      title: `Move ${merchant.name} to ${target.name}?`,
      body: `${merchant.name} and every terminal bound to it now move to ${target.name}.`,
      confirmLabel: 'Move merchant',
    });
    if (!ok) return;
    try {
      const moved = await api.call(merchantMoveOut, 'POST', `/v1/merchants/${encodeURIComponent(merchant.id)}/move`, {
        body: { orgId: target.id },
      });
      setDone(`${merchant.name} moved to ${target.name} with ${moved.terminalsMoved} terminal${moved.terminalsMoved === 1 ? '' : 's'}.`);
      onMoved();
    } catch (err) {
      setError(err);
    }
  };

  return (
    <section aria-labelledby="move-merchant-title">
      <h3 id="move-merchant-title">Move a merchant with its terminals</h3>
      <form class="filters move-merchant" onSubmit={submit}>
        <Field label="Merchant" id="move-merchant">
          <select id="move-merchant" value={merchant?.id} onChange={(e) => setMerchantId(e.currentTarget.value)}>
            {own.map((m) => (
              <option value={m.id}>{m.name}</option>
            ))}
          </select>
        </Field>
        <Field label="Move merchant to" id="move-target">
          <select id="move-target" value={target?.id} onChange={(e) => setTo(e.currentTarget.value)}>
            {targets.map((n) => (
              <option value={n.id}>{`${'— '.repeat(n.depth)}${n.name}`}</option>
            ))}
          </select>
        </Field>
        <div class="field field-actions">
          <button type="submit" class="btn">
            Move merchant
          </button>
        </div>
      </form>
      {error ? <ErrorBox error={error} /> : null}
      {done ? (
        <p class="note" role="status">
          {done}
        </p>
      ) : null}
    </section>
  );
}
