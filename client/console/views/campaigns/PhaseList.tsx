/** @jsxImportSource preact */
// A campaign's phases, each with a stacked bar (succeeded, failed, in flight, skipped) and the
// same counts in words, which is what screen readers and the browser tests read.
import type { Campaign } from './campaignKinds.ts';
import { phaseTally, progressText } from './campaignRules.ts';

type Phase = Campaign['phases'][number];

function ProgressBar({ t }: { t: ReturnType<typeof phaseTally> }) {
  const whole = Math.max(1, t.total + t.other);
  const segs: [number, string][] = [
    [t.succeeded, 'seg-ok'],
    [t.errors, 'seg-bad'],
    [t.inFlight, 'seg-busy'],
    [t.other, 'seg-muted'],
  ];
  return (
    <div class="stack" aria-hidden="true">
      {segs
        .filter(([n]) => n > 0)
        .map(([n, cls]) => (
          <span class={`seg ${cls}`} style={{ width: `${(n / whole) * 100}%` }} />
        ))}
    </div>
  );
}

function PhaseRow({ phase }: { phase: Phase }) {
  const t = phaseTally(phase.counts);
  const status = phase.started ? (phase.passed ? 'passed' : 'running') : 'not started';
  return (
    <li
      class={`phase ${phase.started ? 'phase-started' : 'phase-waiting'}`}
      data-phase={String(phase.index)}
      data-succeeded={String(t.succeeded)}
      data-total={String(t.total)}
    >
      <div class="phase-head">
        <strong>{phase.name}</strong>
        <span class="muted small">
          {` ${phase.percent}% of the target · ${status}`}
          {phase.overErrorThreshold ? ' · over the error threshold' : ''}
        </span>
      </div>
      <ProgressBar t={t} />
      <p class="small phase-text">{progressText(t)}</p>
    </li>
  );
}

export function PhaseList({ campaign }: { campaign: Campaign }) {
  return (
    <ol class="phases" aria-label={`Phases of ${campaign.name}`}>
      {campaign.phases.map((p) => (
        <PhaseRow key={p.index} phase={p} />
      ))}
    </ol>
  );
}
