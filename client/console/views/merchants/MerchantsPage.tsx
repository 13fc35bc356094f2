/** @jsxImportSource preact */
// /ui/merchants: pending re-binding approvals, onboarding reviews, a new merchant (operators and
// admins), and every merchant. Approvals are for admins; the server also refuses the requester.
import { useEffect, useState } from 'preact/hooks';
import { MeSchema } from '../../../../server/auth/meSchema.ts';
import { api, has, isRole } from '../../session.ts';
import { ErrorBox } from '../../ui.tsx';
import type { Me, ViewContext } from '../../viewContract.ts';
import { CreateMerchantForm } from './CreateMerchantForm.tsx';
import { MerchantList } from './MerchantList.tsx';
import { OnboardingReviews } from './OnboardingReviews.tsx';
import { RebindRequests } from './RebindRequests.tsx';

export function MerchantsPage({ ctx }: { ctx: ViewContext }) {
  const [me, setMe] = useState<Me | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [refresh, setRefresh] = useState(0);
  useEffect(() => {
    api.call(MeSchema, 'GET', '/v1/me').then(setMe, setError);
  }, []);
  const changed = () => setRefresh((n) => n + 1);
  if (error) return <ErrorBox error={error} />;
  if (!me) return <p class="loading">Loading…</p>;
  const merchants = has('GET /v1/merchants');
  const unavailable = (what: string) => (
    <p class="unavailable" data-unavailable={what}>
      {what}: not available in this build.
    </p>
  );
  return (
    <>
      {isRole('admin') ? null : <p class="note">Approvals need the admin role; you can see what is waiting.</p>}
      <section aria-labelledby="rebinds-title">
        <h2 id="rebinds-title">Pending re-binding approvals</h2>
        <RebindRequests ctx={ctx} me={me} onDecided={changed} />
      </section>
      <section aria-labelledby="reviews-title">
        <h2 id="reviews-title">Merchants waiting for review</h2>
        {merchants ? <OnboardingReviews ctx={ctx} me={me} refresh={refresh} onDecided={changed} /> : unavailable('Merchant onboarding')}
      </section>
      <section aria-labelledby="all-merchants-title">
        <h2 id="all-merchants-title">All merchants</h2>
        {merchants && isRole('admin', 'operator') ? <CreateMerchantForm ctx={ctx} onCreated={changed} /> : null}
        {merchants ? <MerchantList refresh={refresh} /> : unavailable('Merchants')}
      </section>
    </>
  );
}
