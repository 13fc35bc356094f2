// How much of the machine other processes took while we measured. The benchmark shares its
// 2 cores with whatever else runs; a figure taken while others used half the CPU is not a
// property of the server, and the reader must be told.
import type { IngestStep } from './ingestPhase.ts';

export interface Interference {
  /** Share (0..1) of the machine's CPU capacity used by other processes during the ingest steps. */
  ingestShare: number | null;
  /** Same while the fleet connected. */
  connectShare: number | null;
}

export function shareOf(otherCpuSeconds: number, wallSeconds: number, cpus: number): number | null {
  return wallSeconds > 0 && cpus > 0 ? Math.round((otherCpuSeconds / (wallSeconds * cpus)) * 1000) / 1000 : null;
}

export function ingestShare(steps: readonly IngestStep[], cpus: number): number | null {
  const other = steps.reduce((n, s) => n + s.otherCpuSeconds, 0);
  const wall = steps.reduce((n, s) => n + s.wallSeconds, 0);
  return shareOf(other, wall, cpus);
}

/** Above this, the run's figures are flagged as disturbed. */
export const disturbedAbove = 0.1;

export function interferenceNote(label: string, i: Interference): string | undefined {
  const worst = Math.max(i.ingestShare ?? 0, i.connectShare ?? 0);
  if (worst <= disturbedAbove) return undefined;
  const pct = (v: number | null) => (v === null ? '-' : `${Math.round(v * 100)}%`);
  return `${label}: other processes used ${pct(i.connectShare)} of the machine's CPU while the fleet connected and ${pct(i.ingestShare)} during the ingest steps; those figures understate the broker.`;
}
