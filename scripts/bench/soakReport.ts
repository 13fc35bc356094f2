// The soak scenario's table rows and `reliability` entry, from its figures and verdicts.
import type { TableRow } from './scenario.ts';
import type { CommandTally } from './soakCommands.ts';
import type { LagContext, SeriesFigure, SoakFigures, SoakLimits, SoakSample, SoakVerdicts } from './soakStats.ts';
import { cell } from './table.ts';
import { round } from './util.ts';

const r1 = (n: number | null) => (n === null ? null : round(n, 1));

const compact = (f: SeriesFigure) => ({
  slopePerHour: r1(f.slopePerHour),
  stdErrPerHour: r1(f.stdErrPerHour),
  drift: r1(f.drift),
  max: f.max,
  first: f.first,
  last: f.last,
});

export function reliabilityEntry(
  f: SoakFigures,
  v: SoakVerdicts,
  limits: SoakLimits,
  commands: CommandTally,
  samples: readonly SoakSample[],
  lag: LagContext,
) {
  return {
    judgedMinutes: round(f.judgedMinutes, 1),
    rssSlopeMiBPerHour: r1(f.rss.slopePerHour),
    rssSlopeStdErrMiBPerHour: r1(f.rss.stdErrPerHour),
    heapSlopeMiBPerHour: r1(f.heap.slopePerHour),
    handlesSlopePerHour: r1(f.handles.slopePerHour),
    handlesMax: f.handles.max,
    lagP99Ms: f.lagP99Ms,
    lagWindowsOverLimit: lag,
    queueDepth: compact(f.queue),
    faultsOpen: compact(f.faultsOpen),
    buffers: Object.fromEntries(Object.entries(f.buffers).map(([b, fig]) => [b, compact(fig)])),
    commandsSent: commands.sent,
    commandsLost: commands.lost,
    commandStates: commands.byState,
    limits,
    verdicts: v,
    rss: compact(f.rss),
    heap: compact(f.heap),
    handles: compact(f.handles),
    samples,
  };
}

const flatTarget = (allowance: number) => `drift ≤ ${allowance}`;
const slopeCell = (f: SeriesFigure, unit: string) =>
  f.slopePerHour === null ? '-' : `${cell(f.slopePerHour, unit, 1)} ±${cell(f.stdErrPerHour, '', 1)}`;

export function soakRows(f: SoakFigures, v: SoakVerdicts, limits: SoakLimits, commands: CommandTally, lag: LagContext): TableRow[] {
  const rows: TableRow[] = [
    {
      metric: `soak: RSS slope (last ${round(f.judgedMinutes, 1)} min)`,
      ours: slopeCell(f.rss, ' MiB/h'),
      target: `≤ ${limits.rssSlopeMiBPerHour} MiB/h`,
      pass: v.rss,
    },
    { metric: 'soak: RSS first → last judged', ours: `${cell(f.rss.first, '', 0)} → ${cell(f.rss.last, ' MiB', 0)}`, pass: null },
    { metric: 'soak: heap used slope', ours: slopeCell(f.heap, ' MiB/h'), pass: null },
    {
      metric: 'soak: open fds slope (max)',
      ours: `${slopeCell(f.handles, '/h')} (${cell(f.handles.max)})`,
      target: flatTarget(limits.handlesAllowance),
      pass: v.handles,
    },
    { metric: 'soak: event-loop p99 (worst 5 s)', ours: cell(f.lagP99Ms, ' ms', 1), target: `≤ ${limits.lagP99Ms} ms`, pass: v.lag },
    {
      metric: `soak: 5 s windows over ${limits.lagP99Ms} ms (others' CPU)`,
      ours: `${lag.over} of ${lag.of} (${cell(lag.otherCoresOver, '', 2)} vs ${cell(lag.otherCoresAll, ' cores', 2)})`,
      pass: null,
    },
    {
      metric: 'soak: commands queue depth slope (max)',
      ours: `${slopeCell(f.queue, '/h')} (${cell(f.queue.max)})`,
      target: flatTarget(limits.bufferAllowance),
      pass: v.queue,
    },
  ];
  for (const [b, fig] of Object.entries(f.buffers)) {
    rows.push({
      metric: `soak: buffer ${b} slope (max)`,
      ours: `${slopeCell(fig, '/h')} (${cell(fig.max)})`,
      target: flatTarget(limits.bufferAllowance),
      pass: v.buffers[b] ?? null,
    });
  }
  rows.push({
    metric: 'soak: faults open first → last judged (max)',
    ours: `${cell(f.faultsOpen.first)} → ${cell(f.faultsOpen.last)} (${cell(f.faultsOpen.max)})`,
    pass: null,
  });
  rows.push({
    metric: 'soak: commands sent / lost',
    ours: `${cell(commands.sent)} / ${cell(commands.lost)}`,
    target: 'lost 0',
    pass: v.commands,
  });
  return rows;
}
