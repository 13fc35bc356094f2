// A campaign's progress as the watch prints it, from its `GET …/{id}` view: how many members are
// final, of which succeeded and failed, which phase runs. Pure, so it is tested without a server.
import { finalDeviceStates } from '../../schemas/campaigns.ts';
import { progressBar } from '../output.ts';

export const finalCampaignStates = ['succeeded', 'failed', 'cancelled'] as const;

/** The fields of a campaign view the watch reads (every kind's view has them). */
export interface WatchedView {
  id: string;
  state: string;
  pausedReason: string | null;
  rollingBack: boolean;
  counts: Record<string, number>;
  phases: { index: number; name: string; started: boolean }[];
}

export interface Progress {
  total: number;
  final: number;
  succeeded: number;
  /** failed + rolled_back + timed_out */
  errors: number;
  done: boolean;
  /** One line with every figure; equal lines mean nothing changed. */
  text: string;
}

const sum = (counts: Record<string, number>, states: readonly string[]) => states.reduce((n, s) => n + (counts[s] ?? 0), 0);

export function progressOf(v: WatchedView, bar: boolean): Progress {
  const total = Object.values(v.counts).reduce((a, b) => a + b, 0);
  const final = sum(v.counts, finalDeviceStates);
  const succeeded = v.counts.succeeded ?? 0;
  const errors = sum(v.counts, ['failed', 'rolled_back', 'timed_out']);
  const done = finalCampaignStates.some((s) => s === v.state);
  const started = v.phases.filter((p) => p.started);
  const phase = started.at(-1);
  const phaseText = phase ? ` phase ${phase.index + 1}/${v.phases.length} (${phase.name})` : '';
  const extra = [v.pausedReason ? `paused: ${v.pausedReason}` : '', v.rollingBack ? 'rolling back' : ''].filter(Boolean).join(', ');
  const figures = `${final}/${total} final, ${succeeded} succeeded, ${errors} failed`;
  const text = `${bar ? `${progressBar(final, total)} ` : ''}${v.state}${phaseText}: ${figures}${extra ? ` (${extra})` : ''}`;
  return { total, final, succeeded, errors, done, text };
}
