/** @jsxImportSource preact */
// Unresolved faults by severity (worst first) and by kind (the ten most frequent), each bar linking
// to the fault queue filtered to it.
import type { z } from 'zod';
import type { faultSummary } from '../../../../server/faults/faultSchemas.ts';
import { ErrorBox } from '../../ui.tsx';
import { faultsHref, SEVERITIES_WORST_FIRST } from './overviewData.ts';
import { Section, Unavailable } from '../../ui.tsx';
import { Bars, Loading, Stat } from './overviewParts.tsx';
import type { Summary } from './useSummary.ts';

type FaultSummary = z.infer<typeof faultSummary>;
const SHOWN_CODES = 10;

export function FaultSections({ summary, available }: { summary: Summary<FaultSummary>; available: boolean }) {
  const body = (render: (s: FaultSummary) => preact.JSX.Element) =>
    !available ? (
      <Unavailable what="Faults" />
    ) : summary.error ? (
      <ErrorBox error={summary.error} />
    ) : summary.data ? (
      render(summary.data)
    ) : (
      <Loading />
    );
  return (
    <>
      <Section title="Faults by severity">
        {body((s) => (
          <Bars
            caption="Unresolved faults per severity"
            total={s.total}
            rows={SEVERITIES_WORST_FIRST.map((sev) => ({
              key: sev,
              label: <span class={`badge sev sev-${sev}`}>{sev}</span>,
              count: s.bySeverity[sev] ?? 0,
              href: faultsHref({ severity: sev }),
              className: `sev-bg-${sev}`,
            }))}
          />
        ))}
      </Section>
      <Section title="Open faults by kind">
        {body((s) => {
          const codes = Object.entries(s.byCode).sort((a, b) => b[1].total - a[1].total);
          if (!codes.length) return <p class="muted">No open faults. All clear.</p>;
          return (
            <Bars
              caption="Unresolved faults per kind"
              total={s.total}
              rows={codes.slice(0, SHOWN_CODES).map(([code, c]) => {
                const label = code.replace(/_/g, ' ');
                return { key: code, label, title: label, count: c.total, href: faultsHref({ code }), className: `sev-bg-${c.severity}` };
              })}
            />
          );
        })}
      </Section>
    </>
  );
}

/** The fault counts in the overview's row of cards: nothing when faults are not in this build. */
export function FaultStats({ summary, available }: { summary: Summary<FaultSummary>; available: boolean }) {
  if (!available) return null;
  const s = summary.data;
  return (
    <>
      <FaultStat
        label="Open faults"
        stat="faults"
        value={s?.total}
        className={s ? (s.total ? 'stat-bad' : 'stat-ok') : ''}
        linked={Boolean(s)}
      />
      <FaultStat label="Terminals with faults" stat="affected" value={s?.devicesAffected} linked={Boolean(s)} />
    </>
  );
}

function FaultStat(props: { label: string; stat: string; value: number | undefined; className?: string; linked: boolean }) {
  return (
    <Stat
      label={props.label}
      stat={props.stat}
      value={props.value}
      className={props.className}
      href={props.linked ? '/ui/faults' : undefined}
    />
  );
}
