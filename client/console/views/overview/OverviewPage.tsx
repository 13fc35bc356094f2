/** @jsxImportSource preact */
// The fleet overview (/ui/): which terminals need a visit, and why. Only summary routes are read,
// so it costs the same with 10 or 10,000 terminals; each part reloads on the live events that
// change it, throttled. A part whose API is not in this build says so.
import { useState } from 'preact/hooks';
import { fleetSummary } from '../../../../server/devices/fleetSchemas.ts';
import { faultSummary } from '../../../../server/faults/faultSchemas.ts';
import { page } from '../../../../server/http/schemas.ts';
import { rebindOut } from '../../../../server/merchants/apiSchemas.ts';
import { api, has } from '../../session.ts';
import { ErrorBox } from '../../ui.tsx';
import { useThrottledLive } from '../campaigns/useThrottledLive.ts';
import { CampaignsInProgress } from './CampaignsInProgress.tsx';
import { FaultSections, FaultStats } from './FaultSections.tsx';
import { FleetSections, FleetStats } from './FleetSections.tsx';
import { isBindingChange, isFaultChange, isFleetChange } from './overviewData.ts';
import { Section } from '../../ui.tsx';
import { Stat } from './overviewParts.tsx';
import { RelocatedTerminals } from './RelocatedTerminals.tsx';
import { useSummary } from './useSummary.ts';

// Pending re-bindings counted up to one page; the decisions are on the merchants page.
const APPROVALS_SHOWN = 100;
const rebindPage = page(rebindOut);

export function OverviewPage() {
  const [updatedAt, setUpdatedAt] = useState<Date | null>(null);
  const fleet = useSummary(async () => {
    const s = await api.call(fleetSummary, 'GET', '/v1/fleet/summary');
    setUpdatedAt(new Date());
    return s;
  });
  const faultsAvailable = has('GET /v1/faults') && has('GET /v1/faults/summary');
  const faults = useSummary(faultsAvailable ? () => api.call(faultSummary, 'GET', '/v1/faults/summary') : null);
  const approvals = useSummary(
    has('GET /v1/rebind-requests')
      ? () => api.call(rebindPage, 'GET', '/v1/rebind-requests', { query: { status: 'pending', limit: APPROVALS_SHOWN } })
      : null,
  );
  useThrottledLive(isFleetChange, fleet.reload, 1500);
  useThrottledLive(isFaultChange, faults.reload, 1500);
  useThrottledLive(isBindingChange, approvals.reload, 1500);

  const pending = approvals.data;
  return (
    <>
      <p class="lede">Which terminals need a visit, and why. Counts update live.</p>
      <div class="stats" aria-live="polite" aria-atomic="false">
        {fleet.error ? <ErrorBox error={fleet.error} /> : fleet.data ? <FleetStats s={fleet.data} /> : null}
        <FaultStats summary={faults} available={faultsAvailable} />
        {pending ? (
          <Stat
            label={pending.nextCursor ? `Re-bindings to approve (${APPROVALS_SHOWN}+)` : 'Re-bindings to approve'}
            stat="approvals"
            value={pending.items.length}
            className={pending.items.length ? 'stat-warn' : ''}
            href="/ui/merchants"
          />
        ) : null}
      </div>
      <div class="grid-2">
        <FaultSections summary={faults} available={faultsAvailable} />
        <Section title="Relocated terminals">
          <RelocatedTerminals />
        </Section>
        <FleetSections fleet={fleet} />
        <Section title="Rollouts and key rotations in progress">
          <CampaignsInProgress />
        </Section>
      </div>
      <p class="muted small">{updatedAt ? `Updated ${updatedAt.toLocaleTimeString()}` : ''}</p>
    </>
  );
}
