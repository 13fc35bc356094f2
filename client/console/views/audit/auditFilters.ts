// The audit page's filters as typed (the time fields are the browser's local datetime-local
// values) turned into the query of GET /v1/audit (ISO-8601 instants), or why they cannot be.
export const auditFilterKeys = ['actorId', 'action', 'target', 'since', 'until'] as const;
export type AuditFilters = Partial<Record<(typeof auditFilterKeys)[number], string>>;

export type AuditQuery = { ok: true; query: Record<string, string> } | { ok: false; message: string };

/** A datetime-local value ("2026-12-04T18:30") read in the browser's zone, as an instant. */
const instant = (local: string): string | null => {
  const t = new Date(local).getTime();
  return Number.isFinite(t) ? new Date(t).toISOString() : null;
};

export function auditQuery(filters: AuditFilters): AuditQuery {
  const query: Record<string, string> = {};
  for (const k of ['actorId', 'action', 'target'] as const) if (filters[k]) query[k] = filters[k];
  for (const k of ['since', 'until'] as const) {
    const value = filters[k];
    if (!value) continue;
    const at = instant(value);
    if (!at) return { ok: false, message: `${k === 'since' ? 'From' : 'Before'} is not a date and time.` };
    query[k] = at;
  }
  if (query.since && query.until && query.since >= query.until) return { ok: false, message: '“From” must be earlier than “Before”.' };
  return { ok: true, query };
}
