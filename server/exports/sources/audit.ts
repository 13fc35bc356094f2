// The audit log export, oldest first, every field the hash covers and the chain's links, so it can
// be checked offline with docs/audit.md's formula. Outside the root, the entries whose actor is a
// user of the caller's subtree (the chain then has gaps: each entry's own hash still checks).
import { and, asc, eq, gt, gte, inArray, lt, type SQL } from 'drizzle-orm';
import { canonicalJson } from '../../../schemas/canonicalJson.ts';
import { auditLog, users } from '../../../schemas/db.ts';
import type { Db } from '../../db/database.ts';
import { scopedTo, seesAll, type OrgScope } from '../../orgs/scope.ts';
import type { ExportFormat } from '../exportFormat.ts';
import { keysetPages } from '../exportStream.ts';
import type { AuditExportRow } from '../rowSchemas.ts';

export interface AuditExportFilter {
  action?: string;
  actorId?: string;
  target?: string;
  since?: Date;
  until?: Date;
}

export interface AuditExportDeps {
  db: Db;
  pageSize: number;
  onPage: () => void;
}

function conditions(db: Db, f: AuditExportFilter, scope: OrgScope): SQL[] {
  const w: SQL[] = [];
  if (f.action !== undefined) w.push(eq(auditLog.action, f.action));
  if (f.actorId !== undefined) w.push(eq(auditLog.actorId, f.actorId));
  if (f.target !== undefined) w.push(eq(auditLog.target, f.target));
  if (f.since !== undefined) w.push(gte(auditLog.ts, f.since));
  if (f.until !== undefined) w.push(lt(auditLog.ts, f.until));
  const subtreeUsers = scopedTo(scope, users.orgId);
  if (!seesAll(scope) && subtreeUsers) w.push(inArray(auditLog.actorId, db.select({ id: users.id }).from(users).where(subtreeUsers)));
  return w;
}

/** `data` in CSV is its canonical JSON (RFC 8785), the very text the hash covers. */
export async function* auditPages(
  deps: AuditExportDeps,
  filter: AuditExportFilter,
  scope: OrgScope,
  format: ExportFormat,
): AsyncGenerator<(Omit<AuditExportRow, 'data'> & { data: AuditExportRow['data'] | string })[]> {
  const read = (after: number | undefined) =>
    deps.db
      .select()
      .from(auditLog)
      .where(and(...conditions(deps.db, filter, scope), after === undefined ? undefined : gt(auditLog.seq, after)))
      .orderBy(asc(auditLog.seq))
      .limit(deps.pageSize);
  for await (const rows of keysetPages(read, (r) => r.seq, deps.pageSize, deps.onPage)) {
    yield rows.map((r) => ({ ...r, ts: r.ts.toISOString(), data: format === 'csv' ? canonicalJson(r.data) : r.data }));
  }
}
