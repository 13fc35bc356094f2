// The overview's pure parts: counts ranked for the bar lists, a bar's width and share, and how far
// a campaign in progress has got. Only summary answers feed them, so 10 or 10,000 terminals cost the same.
import { severities, type Severity } from '../../../../schemas/faults.ts';
import type { Campaign } from '../campaigns/campaignKinds.ts';

/** Worst first, the order the overview lists them in. */
export const SEVERITIES_WORST_FIRST: readonly Severity[] = [...severities].reverse();

/** A count map's entries, largest first (ties keep the server's order). */
export const ranked = (counts: Record<string, number>): [string, number][] => Object.entries(counts).sort((a, b) => b[1] - a[1]);

/** A bar's width in percent of the largest; a non-zero count stays visible as a sliver. */
export const barWidth = (n: number, max: number): number => Math.max(n ? 2 : 0, (n / Math.max(1, max)) * 100);

/** " (42%)" of the total, read to screen readers beside the count; nothing without a total. */
export const shareText = (n: number, total: number): string => (total ? ` (${Math.round((n / total) * 100)}%)` : '');

export const isInProgress = (c: Pick<Campaign, 'state'>): boolean => c.state === 'running' || c.state === 'paused';

/** Terminals succeeded out of the phases' totals (skipped and cancelled members left out, as the thresholds count). */
export function campaignProgress(c: Pick<Campaign, 'phases' | 'counts'>): { done: number; total: number; percent: number } {
  const total = c.phases.reduce((sum, p) => sum + p.total, 0);
  const done = c.counts.succeeded ?? 0;
  return { done, total, percent: total ? Math.round((done / total) * 100) : 0 };
}

export const devicesHref = (filter: Record<string, string>): string => `/ui/devices?${new URLSearchParams(filter)}`;
export const faultsHref = (filter: Record<string, string>): string => `/ui/faults?${new URLSearchParams(filter)}`;

// Which live events change which part of the overview (a resumed stream may have missed any).
export const isFleetChange = (name: string): boolean =>
  name.startsWith('device.presence') || ['device.enrolled', 'device.registered', 'device.revoked', 'stream.resumed'].includes(name);
export const isFaultChange = (name: string): boolean => name.startsWith('fault.') || name === 'stream.resumed';
export const isCampaignChange = (name: string): boolean => ['campaign.updated', 'campaign.device', 'stream.resumed'].includes(name);
export const isBindingChange = (name: string): boolean => name === 'device.binding' || name === 'stream.resumed';
