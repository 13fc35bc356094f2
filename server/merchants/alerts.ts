// Merchant alerts (relocation, transaction limits, suspicious cards): one open alert per terminal
// and code, each on the timeline and the event bus as it opens and resolves.
import { scopedDevice, type OrgScope } from '../orgs/scope.ts';
import { and, desc, eq, isNull, sql } from 'drizzle-orm';
import { merchantAlerts, type AlertCode, type MerchantAlertRow } from '../../schemas/tables/merchants.ts';
import type { Severity } from '../../schemas/wire.ts';
import { serialNumber } from '../http/cursorParts.ts';
import { pageOf } from '../http/pageOf.ts';
import type { MerchantDeps } from './merchantDeps.ts';

export interface AlertInput {
  deviceId: string;
  merchantId?: string | null;
  code: AlertCode;
  severity: Severity;
  summary: string;
  data?: Record<string, unknown>;
}

export function createMerchantAlerts(d: Pick<MerchantDeps, 'db' | 'timeline' | 'bus' | 'now'>) {
  const { db } = d;
  const now = () => new Date(d.now?.() ?? Date.now());

  return {
    async raiseAlert(a: AlertInput): Promise<MerchantAlertRow | null> {
      const [row] = await db
        .insert(merchantAlerts)
        .values({
          deviceId: a.deviceId,
          merchantId: a.merchantId ?? null,
          code: a.code,
          severity: a.severity,
          summary: a.summary,
          data: a.data ?? {},
        })
        .onConflictDoNothing()
        .returning();
      if (!row) return null;
      d.timeline.add({
        deviceId: a.deviceId,
        kind: 'alert',
        summary: a.summary,
        data: { code: a.code, severity: a.severity, alertId: row.id, ...a.data },
      });
      d.bus.emit('device.alert', {
        deviceId: a.deviceId,
        code: a.code,
        severity: a.severity,
        summary: a.summary,
        open: true,
        data: a.data ?? {},
      });
      return row;
    },

    async resolveAlert(deviceId: string, code: AlertCode, summary: string) {
      const rows = await db
        .update(merchantAlerts)
        .set({ resolvedAt: now() })
        .where(and(eq(merchantAlerts.deviceId, deviceId), eq(merchantAlerts.code, code), isNull(merchantAlerts.resolvedAt)))
        .returning({ id: merchantAlerts.id, severity: merchantAlerts.severity });
      for (const r of rows) {
        d.timeline.add({ deviceId, kind: 'alert', summary, data: { code, alertId: r.id, resolved: true } });
        d.bus.emit('device.alert', { deviceId, code, severity: r.severity, summary, open: false, data: {} });
      }
    },

    /** `scope`: only the alerts of terminals in this caller's subtree. */
    async list(q: { deviceId?: string; open?: boolean; limit: number; cursor?: string; scope?: OrgScope }) {
      const rows = await db
        .select()
        .from(merchantAlerts)
        .where(
          and(
            q.deviceId ? eq(merchantAlerts.deviceId, q.deviceId) : undefined,
            q.scope ? scopedDevice(q.scope, merchantAlerts.deviceId) : undefined,
            q.open === undefined ? undefined : q.open ? isNull(merchantAlerts.resolvedAt) : sql`${merchantAlerts.resolvedAt} is not null`,
            q.cursor ? sql`${merchantAlerts.id} < ${serialNumber(q.cursor)}` : undefined,
          ),
        )
        .orderBy(desc(merchantAlerts.id))
        .limit(q.limit + 1);
      return pageOf(rows, q.limit, (last) => String(last.id));
    },
  };
}

export type MerchantAlerts = ReturnType<typeof createMerchantAlerts>;
