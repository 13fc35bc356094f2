/** @jsxImportSource preact */
// What GET /v1/fleet/summary shows: the terminal counts in the row of cards, enrolled terminals per
// firmware version and terminals per model, each linking to the device list filtered to it.
import type { z } from 'zod';
import type { fleetSummary } from '../../../../server/devices/fleetSchemas.ts';
import { ErrorBox } from '../../ui.tsx';
import { devicesHref, ranked } from './overviewData.ts';
import { Section } from '../../ui.tsx';
import { Bars, Loading, Stat } from './overviewParts.tsx';
import type { Summary } from './useSummary.ts';

export type FleetSummary = z.infer<typeof fleetSummary>;
const SHOWN = 12;

export function FleetStats({ s }: { s: FleetSummary }) {
  return (
    <>
      <Stat label="Terminals" stat="devices" value={s.devices} href="/ui/devices" />
      <Stat label="Online" stat="online" value={s.online} className="stat-ok" href={devicesHref({ online: 'true' })} />
      <Stat
        label="Offline"
        stat="offline"
        value={s.offline}
        className={s.offline ? 'stat-warn' : ''}
        href={devicesHref({ online: 'false' })}
      />
      <Stat label="Not yet enrolled" stat="registered" value={s.byStatus.registered ?? 0} href={devicesHref({ status: 'registered' })} />
    </>
  );
}

export function FleetSections({ fleet }: { fleet: Summary<FleetSummary> }) {
  const body = (render: (s: FleetSummary) => preact.JSX.Element) =>
    fleet.error ? <ErrorBox error={fleet.error} /> : fleet.data ? render(fleet.data) : <Loading />;
  return (
    <>
      <Section title="Firmware versions">
        {body((s) => {
          const versions = ranked(s.byFirmware);
          if (!versions.length) return <p class="muted">No enrolled terminals yet.</p>;
          return (
            <>
              <Bars
                caption="Enrolled terminals per firmware version"
                total={s.byStatus.enrolled ?? 0}
                rows={versions
                  .slice(0, SHOWN)
                  .map(([v, n]) => ({ key: v, label: v, title: v, count: n, href: devicesHref({ fwVersion: v }) }))}
              />
              {versions.length > SHOWN ? <p class="muted small">{versions.length - SHOWN} more versions not shown.</p> : null}
            </>
          );
        })}
      </Section>
      <Section title="Models">
        {body((s) => {
          const models = ranked(s.byModel);
          if (!models.length) return <p class="muted">No terminals yet.</p>;
          return (
            <Bars
              caption="Terminals per model"
              total={s.devices}
              rows={models.slice(0, SHOWN).map(([m, n]) => ({ key: m, label: m, title: m, count: n, href: devicesHref({ model: m }) }))}
            />
          );
        })}
      </Section>
    </>
  );
}
