// What the fault queue reads and how its filters live in the address: the server's schemas with
// the members of the answer this page shows (the Fault schema is open), the filters and orders of
// GET /v1/faults, and the round trip between the address and the filters.
import { z } from 'zod';
import { fault, faultListPage } from '../../../../server/faults/faultSchemas.ts';
import type { FaultSort } from '../../../../server/faults/faultSort.ts';

export const listedFault = fault.extend({
  serial: z.string().nullish(),
  model: z.string().nullish(),
  assigneeName: z.string().nullish(),
  resolution: z.string().nullish(),
  resolvedByName: z.string().nullish(),
  updatedAt: z.string().nullish(),
});
export type ListedFault = z.infer<typeof listedFault>;
export const faultPage = faultListPage.extend({ items: z.array(listedFault) });

export const FILTERS = ['state', 'severity', 'code', 'assignee', 'serial', 'deviceId', 'model', 'merchantId'] as const;
export type FaultFilters = Partial<Record<(typeof FILTERS)[number], string>>;

export const STATES: [string, string][] = [
  ['', 'Unresolved'],
  ['open', 'Open'],
  ['acknowledged', 'Acknowledged'],
  ['resolved', 'Resolved'],
  ['all', 'All'],
];

/** The orders of GET /v1/faults (`sort`), each named on screen; the server sorts, so every page follows it. */
export const SORT_LABELS = {
  severity: 'Worst first, then oldest',
  oldest: 'Oldest first',
  newest: 'Newest first',
  updated: 'Recently changed',
} satisfies Record<FaultSort, string>;
export const DEFAULT_SORT: FaultSort = 'severity';
export const isSort = (s: string | null): s is FaultSort => s !== null && s in SORT_LABELS;

export const filtersFromQuery = (q: URLSearchParams): FaultFilters =>
  Object.fromEntries(FILTERS.flatMap((k) => (q.get(k)?.trim() ? [[k, q.get(k)?.trim() ?? '']] : [])));

/** The filters without empty fields, trimmed. */
export const cleanFilters = (f: FaultFilters): FaultFilters =>
  Object.fromEntries(Object.entries(f).flatMap(([k, v]) => (v?.trim() ? [[k, v.trim()]] : [])));

/** The page's address for these filters and order (the default order is left out). */
export function faultsUrl(f: FaultFilters, sort: FaultSort): string {
  const params = new URLSearchParams(cleanFilters(f));
  if (sort !== DEFAULT_SORT) params.set('sort', sort);
  return `/ui/faults${params.size ? `?${params}` : ''}`;
}

export const where = (f: ListedFault) => `${f.title} on ${f.serial ?? f.deviceId}`;
