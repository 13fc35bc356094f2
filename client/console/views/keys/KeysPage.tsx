/** @jsxImportSource preact */
// /ui/keys: the dual-control queue, the key inventory by KCV across the fleet and per terminal,
// and the DUKPT BDKs. Check values and versions only: no answer of the API carries a key.
import { useEffect, useState } from 'preact/hooks';
import { MeSchema } from '../../../../server/auth/meSchema.ts';
import { api } from '../../session.ts';
import { ErrorBox } from '../../ui.tsx';
import type { Me, ViewContext } from '../../viewContract.ts';
import { BdkList } from './BdkList.tsx';
import { DualControlQueue } from './DualControlQueue.tsx';
import { KeyInventory } from './KeyInventory.tsx';

export function KeysPage({ ctx }: { ctx: ViewContext }) {
  const [me, setMe] = useState<Me | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [decided, setDecided] = useState(0);
  useEffect(() => {
    api.call(MeSchema, 'GET', '/v1/me').then(setMe, setError);
  }, []);
  if (error) return <ErrorBox error={error} />;
  if (!me) return <p class="loading">Loading…</p>;
  return (
    <>
      <DualControlQueue ctx={ctx} me={me} onDecided={() => setDecided((n) => n + 1)} />
      <KeyInventory />
      <BdkList refresh={decided} />
    </>
  );
}
