// The answers of the key routes (keyRoutes.ts), in a module of their own that imports only zod and
// the tables' enums: the console parses these answers with them, and its bundle must not pull the
// vault and ceremony code the routes module imports. None of them has a field for key material.
import { z } from '@hono/zod-openapi';
import { dualControlActions, keyStates } from '../../schemas/tables/keys.ts';

export const timestamp = z.string().openapi({ format: 'date-time' });
export const kcv = z
  .string()
  .openapi({
    description: 'key check value with its method: `cmac:` (AES keys) or `enc0:` (TDES DUKPT IPEKs) and 6 upper-case hex digits',
    example: 'cmac:7A3C1B',
  });
const usage = z.string().openapi({ description: 'TMK, TPK, TAK, TDK, or IK (a DUKPT initial key)' });
const slot = z
  .string()
  .openapi({ description: '`tmk`, `tpk`, `tak`, `tdk`, `dukpt`, or `<slot>.<n>` (n: 1–3 digits) for further keys of that usage' });

/** An installed key as `GET /v1/devices/{id}/keys` lists it: never the key itself. */
export const installedKey = z
  .object({
    slot,
    usage,
    keyId: z.string().openapi({ description: 'key id (`key_…`)' }),
    version: z.number().int().openapi({ description: '1, 2, 3… per device and slot, never reused' }),
    kcv,
    installedAt: timestamp.nullable(),
    parentKeyId: z.string().nullable().openapi({ description: 'working keys: the TMK they are wrapped under; null for a TMK' }),
  })
  .openapi('InstalledKey');

/** Every key the vault ever made for the device (`?history=true`), newest version first per slot. */
export const keyRecord = z
  .object({
    id: z.string(),
    deviceId: z.string(),
    usage,
    slot,
    version: z.number().int(),
    state: z.enum(keyStates).openapi({ description: 'pending → installed → superseded | revoked, or pending → failed' }),
    kcv,
    parentKeyId: z.string().nullable(),
    rotationId: z.string().nullable().openapi({ description: 'the key rotation (campaign) or ad-hoc install that sent it' }),
    error: z.object({ code: z.string(), message: z.string() }).nullable().openapi({ description: 'why it failed (e.g. kcv_mismatch)' }),
    createdAt: timestamp,
    installedAt: timestamp.nullable(),
    endedAt: timestamp.nullable().openapi({ description: 'when it was superseded, revoked or failed' }),
    endReason: z.string().nullable(),
  })
  .openapi('KeyRecord');

export const keyInventory = z
  .object({
    deviceId: z.string(),
    slots: z.array(installedKey).openapi({ description: 'the installed key of each slot, by slot name' }),
    history: z.array(keyRecord).optional().openapi({ description: 'only with ?history=true' }),
  })
  .openapi('KeyInventory');

/** A dual-control request as `/v1/key-vault/requests` answers it (`approvalView`): ids and KCVs, never a component. */
export const keyApproval = z
  .object({
    id: z.string(),
    action: z.enum(dualControlActions),
    params: z
      .record(z.string(), z.unknown())
      .openapi({ description: 'what is asked (bulk revocation: deviceIds, usages; imports: component KCVs)' }),
    reason: z.string(),
    state: z.string().openapi({ description: 'pending | rejected | expired | running | done | failed' }),
    requestedBy: z.string().openapi({ description: 'user id of the requesting admin' }),
    decidedBy: z.string().nullable(),
    decidedAt: timestamp.nullable(),
    progress: z.record(z.string(), z.unknown()),
    expiresAt: timestamp.nullable(),
    createdAt: timestamp,
  })
  .openapi('KeyApproval');
