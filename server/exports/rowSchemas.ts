// What one row of each export holds: the NDJSON object, and in this order the CSV columns
// (docs/exports.md). Declared once; /openapi.json shows them and the columns are read off them.
import { z } from '@hono/zod-openapi';
import { deviceStatuses } from '../../schemas/db.ts';
import { campaignDeviceActions, campaignDeviceStates } from '../../schemas/campaigns.ts';
import { faultStates, severities } from '../../schemas/faults.ts';
import { keyUsages } from '../../schemas/keyCrypto/header.ts';
import { keyStates } from '../../schemas/tables/keys.ts';

const time = z.string().openapi({ format: 'date-time' });

export const deviceExportRow = z
  .object({
    id: z.string(),
    serial: z.string(),
    model: z.string(),
    status: z.enum(deviceStatuses),
    orgId: z.string(),
    orgName: z.string().nullable(),
    merchantId: z.string().nullable(),
    merchantName: z.string().nullable(),
    boundSince: time.nullable().openapi({ description: 'when the open binding to its merchant was made' }),
    fwVersion: z.string().nullable().openapi({ description: 'reported, else the version it enrolled with' }),
    online: z.boolean(),
    lastSeenAt: time.nullable(),
    batteryLevel: z.number().nullable(),
    charging: z.boolean().nullable(),
    temperatureC: z.number().nullable(),
    printer: z.string().nullable(),
    signalType: z.string().nullable(),
    signalRssi: z.number().nullable(),
    storageFreeMb: z.number().nullable(),
    tamper: z.boolean().nullable(),
    healthAt: time.nullable().openapi({ description: 'time of the latest health sample the other health columns come from' }),
    openFaults: z.number().int().openapi({ description: 'faults open or acknowledged' }),
    labels: z.record(z.string(), z.string()).openapi({ description: 'CSV: its JSON text' }),
    keyVersions: z.record(z.string(), z.number().int()).openapi({ description: 'slot → version of the installed key; CSV: its JSON text' }),
    appVersions: z
      .record(z.string(), z.string())
      .openapi({ description: 'package name → version of each payment app the terminal reports installed; CSV: its JSON text' }),
    parametersTemplateId: z.string().nullable().openapi({ description: 'the parameter template of the set the terminal last reported' }),
    parametersVersion: z.number().int().nullable().openapi({ description: 'that template version' }),
    parametersDrift: z.boolean().openapi({
      description: 'the parameters_drift alert is open: reported ≠ desired for longer than PARAMETERS_DRIFT_ALERT_S after a push settled',
    }),
  })
  .openapi('DeviceExportRow');

export const faultExportRow = z
  .object({
    id: z.string(),
    deviceId: z.string(),
    serial: z.string(),
    model: z.string(),
    merchantId: z.string().nullable(),
    code: z.string(),
    title: z.string(),
    severity: z.enum(severities),
    state: z.enum(faultStates),
    detail: z.string().nullable(),
    openedAt: time,
    acknowledgedAt: time.nullable(),
    acknowledgedBy: z.string().nullable(),
    resolvedAt: time.nullable(),
    resolvedBy: z.string().nullable(),
    resolution: z.string().nullable(),
    assigneeId: z.string().nullable(),
    updatedAt: time,
  })
  .openapi('FaultExportRow');

/** The key inventory: check values and versions. No key material of any form is a column. */
export const keyExportRow = z
  .object({
    id: z.string(),
    deviceId: z.string(),
    serial: z.string(),
    usage: z.enum(keyUsages),
    slot: z.string(),
    version: z.number().int(),
    state: z.enum(keyStates),
    kcv: z.string().openapi({ description: 'key check value with its method, e.g. `cmac:1A2B3C`' }),
    parentKeyId: z.string().nullable(),
    rotationId: z.string().nullable(),
    createdAt: time,
    installedAt: time.nullable(),
    endedAt: time.nullable(),
    endReason: z.string().nullable(),
    errorCode: z.string().nullable(),
  })
  .openapi('KeyExportRow');

export const campaignMemberExportRow = z
  .object({
    campaignId: z.string(),
    deviceId: z.string(),
    serial: z.string().nullable(),
    phase: z.number().int(),
    state: z.enum(campaignDeviceStates),
    action: z.enum(campaignDeviceActions),
    attempt: z.number().int(),
    commandId: z.string().nullable(),
    progress: z.number().int().nullable(),
    fromVersion: z.string().nullable(),
    reportedVersion: z.string().nullable(),
    note: z.string().nullable(),
    errorCode: z.string().nullable(),
    errorMessage: z.string().nullable(),
    nextAttemptAt: time.nullable(),
    sentAt: time.nullable(),
    lastHeardAt: time.nullable(),
    finishedAt: time.nullable(),
  })
  .openapi('CampaignMemberExportRow');

/** An audit entry with the fields its hash covers and the chain links (docs/audit.md's formula). */
export const auditExportRow = z
  .object({
    seq: z.number().int(),
    ts: time.openapi({ description: 'ISO-8601 UTC with milliseconds, exactly as hashed' }),
    actorId: z.string().nullable(),
    actorName: z.string().nullable(),
    action: z.string(),
    target: z.string().nullable(),
    ip: z.string().nullable(),
    data: z.record(z.string(), z.unknown()).openapi({ description: 'CSV: its canonical JSON (RFC 8785), as hashed' }),
    prevHash: z.string(),
    hash: z.string(),
  })
  .openapi('AuditExportRow');

export type DeviceExportRow = z.infer<typeof deviceExportRow>;
export type FaultExportRow = z.infer<typeof faultExportRow>;
export type KeyExportRow = z.infer<typeof keyExportRow>;
export type CampaignMemberExportRow = z.infer<typeof campaignMemberExportRow>;
export type AuditExportRow = z.infer<typeof auditExportRow>;

/** The CSV columns of a row schema: its keys, in declaration order. */
export const columnsOf = (schema: z.ZodObject) => Object.keys(schema.shape);
