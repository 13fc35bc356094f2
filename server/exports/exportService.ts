// One export from request to audit entry: its pages (sources/), its stream (exportStream.ts), and
// when it ends, the audit entry naming who exported what with which filters, how many rows, and
// whether it ran to the end. Counts pages read and exports under way for the module's internals.
import type { AuditLog } from '../audit/auditLog.ts';
import type { CampaignEngine } from '../campaigns/campaignEngine.ts';
import type { Db } from '../db/database.ts';
import type { DeviceFilter } from '../devices/deviceService.ts';
import type { Principal } from '../http/types.ts';
import type { Logger } from '../log.ts';
import type { LiveState } from '../telemetry/liveState.ts';
import type { ExportFormat } from './exportFormat.ts';
import { exportHeaders, exportStream, type ExportOutcome } from './exportStream.ts';
import { auditPages, type AuditExportFilter } from './sources/audit.ts';
import { campaignKindFor, campaignMemberPages, type CampaignMemberFilter } from './sources/campaignMembers.ts';
import { devicePages } from './sources/devices.ts';
import { faultPages, type FaultExportFilter } from './sources/faults.ts';
import { keyPages, type KeyExportFilter } from './sources/keys.ts';
import { auditExportRow, campaignMemberExportRow, columnsOf, deviceExportRow, faultExportRow, keyExportRow } from './rowSchemas.ts';

/** Rows per database read: a page is the most any export holds in memory at once. */
export const EXPORT_PAGE_SIZE = 1000;

export interface ExportServiceDeps {
  db: Db;
  live: LiveState;
  campaigns: CampaignEngine;
  audit: AuditLog;
  log: Logger;
  pageSize?: number;
}

export interface Exporter {
  principal: Principal;
  ip: string;
}

export interface ExportAnswer {
  stream: ReadableStream<Uint8Array>;
  headers: Record<string, string>;
}

export function createExportService(deps: ExportServiceDeps) {
  const pageSize = deps.pageSize ?? EXPORT_PAGE_SIZE;
  let pagesRead = 0;
  let active = 0;
  const onPage = () => void pagesRead++;

  function answer(
    by: Exporter,
    what: {
      name: string;
      action: string;
      target?: string;
      format: ExportFormat;
      columns: readonly string[];
      filters: Record<string, unknown>;
    },
    pages: AsyncIterable<readonly Record<string, unknown>[]>,
  ): ExportAnswer {
    active++;
    const ended = (o: ExportOutcome) => {
      if (o.error) deps.log.error({ err: o.error, export: what.action, rows: o.rows }, 'export failed');
      const data = { format: what.format, filters: what.filters, rows: o.rows, complete: o.complete };
      deps.audit
        .append({ actor: by.principal, action: what.action, target: what.target, ip: by.ip, data })
        .catch((err: unknown) => deps.log.error({ err, export: what.action }, 'export audit entry not written'))
        .finally(() => void active--);
    };
    return {
      stream: exportStream({ format: what.format, columns: what.columns, pages, ended }),
      headers: exportHeaders(what.name, what.format),
    };
  }

  return {
    devices(by: Exporter, format: ExportFormat, filter: DeviceFilter, filters: Record<string, unknown>) {
      const pages = devicePages({ db: deps.db, live: deps.live, pageSize, onPage }, filter, by.principal);
      return answer(by, { name: 'devices', action: 'export.devices', format, columns: columnsOf(deviceExportRow), filters }, pages);
    },

    faults(by: Exporter, format: ExportFormat, filter: FaultExportFilter, filters: Record<string, unknown>) {
      const pages = faultPages({ db: deps.db, pageSize, onPage }, filter, by.principal);
      return answer(by, { name: 'faults', action: 'export.faults', format, columns: columnsOf(faultExportRow), filters }, pages);
    },

    keys(by: Exporter, format: ExportFormat, filter: KeyExportFilter, filters: Record<string, unknown>) {
      const pages = keyPages({ db: deps.db, pageSize, onPage }, filter, by.principal);
      return answer(by, { name: 'keys', action: 'export.keys', format, columns: columnsOf(keyExportRow), filters }, pages);
    },

    /** 404 before anything is streamed when the campaign is unknown or not the caller's to see. */
    async campaignMembers(by: Exporter, format: ExportFormat, id: string, filter: CampaignMemberFilter, filters: Record<string, unknown>) {
      const kind = await campaignKindFor(deps.db, id, by.principal);
      const pages = campaignMemberPages({ db: deps.db, campaigns: deps.campaigns, pageSize, onPage }, { id, kind }, filter, by.principal);
      const name = `campaign-${id}-devices`;
      return answer(
        by,
        { name, action: 'export.campaign_devices', target: id, format, columns: columnsOf(campaignMemberExportRow), filters },
        pages,
      );
    },

    audit(by: Exporter, format: ExportFormat, filter: AuditExportFilter, filters: Record<string, unknown>) {
      const pages = auditPages({ db: deps.db, pageSize, onPage }, filter, by.principal, format);
      return answer(by, { name: 'audit', action: 'export.audit', format, columns: columnsOf(auditExportRow), filters }, pages);
    },

    /** For tests: database pages read by every export so far, and exports not yet ended (audit entry written). */
    internals: {
      pagesRead: () => pagesRead,
      active: () => active,
    },
  };
}

export type ExportService = ReturnType<typeof createExportService>;
export type ExportsInternals = ExportService['internals'];
