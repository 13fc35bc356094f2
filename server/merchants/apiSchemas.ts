// Request and response shapes of the merchant API (validation happens here, at the edge).
import { orgIdField } from '../orgs/orgSchemas.ts';
import { z } from '@hono/zod-openapi';
import {
  isTimeZone,
  MCC_PATTERN,
  merchantKinds,
  merchantPolicy,
  MID_PATTERN,
  SUB_ID_PATTERN,
  TID_PATTERN,
  txnLimits,
  CURRENCY_PATTERN,
} from '../../schemas/binding.ts';
import { lockReasons, merchantStatuses, rebindStatuses } from '../../schemas/tables/merchants.ts';

export const hashParams = z.object({
  hash: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .openapi({ param: { name: 'hash', in: 'path' } }),
});

const text = (max: number) => z.string().trim().min(1).max(max);
const location = z.object({ lat: z.number().min(-90).max(90), lon: z.number().min(-180).max(180) });
const timezone = z.string().max(64).refine(isTimeZone, 'not an IANA time zone (e.g. Asia/Shanghai)');
const subMerchant = z.object({ subId: z.string().regex(SUB_ID_PATTERN, 'letters, digits, _ or - (max 32)'), name: text(200) }).strict();
const documents = z.object({ businessLicenceNo: text(64), taxId: text(64) }).strict();

export const policyInput = z
  .object({
    currency: z.string().regex(CURRENCY_PATTERN, 'ISO 4217 code, e.g. CNY'),
    ...txnLimits,
    lockOnBreach: z.boolean().optional(),
    lockOnRelocation: z.boolean().optional(),
    relocationFixes: z.number().int().min(1).max(100).optional(),
  })
  .strict()
  .openapi('MerchantPolicyInput');

export const merchantCreate = z
  .object({
    mid: z.string().regex(MID_PATTERN, '15 digits'),
    name: text(200),
    mcc: z.string().regex(MCC_PATTERN, 'four digits (ISO 18245), not 0000'),
    address: text(500),
    location,
    radiusM: z.number().int().min(10).max(100_000),
    timezone,
    kind: z.enum(merchantKinds),
    documents,
    subMerchants: z.array(subMerchant).max(500).optional(),
    policy: policyInput.optional(),
    orgId: orgIdField.optional().openapi({ description: 'the organisation node it belongs to; default the creator’s own node' }),
  })
  .strict()
  .openapi('MerchantInput', {
    example: {
      mid: '123456789012345',
      name: 'Café Lindenhof',
      mcc: '5812',
      address: 'Unter den Linden 12, 10117 Berlin',
      location: { lat: 52.517, lon: 13.3889 },
      radiusM: 500,
      timezone: 'Europe/Berlin',
      kind: 'single',
      documents: { businessLicenceNo: 'HRB 123456', taxId: 'DE123456789' },
    },
  });

export const merchantPatch = z
  .object({
    name: text(200).optional(),
    mcc: z.string().regex(MCC_PATTERN).optional(),
    address: text(500).optional(),
    location: location.optional(),
    radiusM: z.number().int().min(10).max(100_000).optional(),
    timezone: timezone.optional(),
    documents: documents.optional(),
    subMerchants: z.array(subMerchant).max(500).optional(),
  })
  .strict()
  .openapi('MerchantPatch');

/** A time in an answer: ISO 8601 in UTC, e.g. `2026-11-25T15:00:18.706Z`. */
const timestamp = z.string().openapi({ format: 'date-time' });
/** A named schema or null: `anyOf [$ref, null]` in the document (`.nullable()` on a named schema loses the null). */
const orNull = <T extends z.ZodType>(schema: T, description: string) => z.union([schema, z.null()]).openapi({ description });

export const merchantOut = z
  .object({
    id: z.string().openapi({ description: 'posfleet merchant id (`mer_…`)' }),
    mid: z.string().openapi({ description: 'acquirer merchant id, 15 digits' }),
    name: z.string(),
    mcc: z.string().openapi({ description: 'merchant category code, four digits' }),
    address: z.string().openapi({ description: 'postal address as one line of free text' }),
    location: location.openapi({ description: 'the centre of the merchant fence' }),
    radiusM: z.number().int().openapi({ description: 'fence radius in metres' }),
    timezone: z.string().openapi({ description: 'IANA time zone: the day of the daily limits' }),
    kind: z.enum(merchantKinds),
    documents: z.object({ businessLicenceNo: z.string(), taxId: z.string() }),
    subMerchants: z.array(z.object({ subId: z.string(), name: z.string() })).openapi({ description: 'empty unless kind is marketplace' }),
    policy: merchantPolicy,
    status: z.enum(merchantStatuses).openapi({ description: 'pending_review → active | rejected; active ⇄ suspended' }),
    orgId: z.string().openapi({ description: 'the organisation node it belongs to (docs/organisations.md)' }),
    statusReason: z.string().nullable().openapi({ description: 'the note or reason of the last status change' }),
    createdBy: z.string().nullable().openapi({ description: 'user id' }),
    reviewedBy: z.string().nullable().openapi({ description: 'the admin who approved or rejected it' }),
    reviewedAt: timestamp.nullable(),
    createdAt: timestamp,
    updatedAt: timestamp,
  })
  .openapi('Merchant');

export const reasonBody = z.object({ reason: text(500) }).strict();
export const noteBody = z.object({ note: z.string().trim().max(500).optional() }).strict();

export const bindingInput = z
  .object({ merchantId: z.string().min(1).max(64), tid: z.string().regex(TID_PATTERN, '8 upper-case letters or digits') })
  .strict();
export const rebindInput = bindingInput.extend({ reason: text(500) }).strict();

export const bindingOut = z
  .object({
    id: z.string().openapi({ description: 'binding id (`bnd_…`)' }),
    deviceId: z.string(),
    merchantId: z.string(),
    tid: z.string().openapi({ description: 'terminal id, 8 upper-case letters or digits' }),
    epoch: z.number().int().openapi({ description: 'epoch of the last token issued for this binding' }),
    createdBy: z.string().nullable(),
    createdAt: timestamp,
    closedAt: timestamp.nullable().openapi({ description: 'null while the binding is open' }),
    closedBy: z.string().nullable(),
    closeReason: z.string().nullable().openapi({ description: '`rebind <requestId>` for a binding closed by a re-binding' }),
    rebindRequestId: z.string().nullable().openapi({ description: 'the approved request that opened it' }),
  })
  .openapi('Binding');
/** `PUT /v1/devices/{id}/binding`: the new binding and the `binding.set` command carrying its token. */
export const boundOut = z
  .object({ ...bindingOut.shape, commandId: z.string().openapi({ description: 'the binding.set command' }) })
  .openapi('NewBinding');

export const rebindOut = z
  .object({
    id: z.string().openapi({ description: 're-binding request id (`rbr_…`)' }),
    deviceId: z.string(),
    fromBindingId: z.string().openapi({ description: 'the binding open when the request was filed' }),
    fromMerchantId: z.string(),
    merchantId: z.string().openapi({ description: 'the merchant to bind to' }),
    tid: z.string(),
    reason: z.string(),
    status: z.enum(rebindStatuses),
    requestedBy: z.string().openapi({ description: 'user id' }),
    requestedByName: z.string().nullable(),
    decidedBy: z.string().nullable(),
    decidedByName: z.string().nullable(),
    decisionNote: z.string().nullable(),
    createdAt: timestamp,
    expiresAt: timestamp.openapi({ description: '72 h after the request; an expired request cannot be approved' }),
    decidedAt: timestamp.nullable(),
  })
  .openapi('RebindRequest');

/** `POST /v1/rebind-requests/{id}/approve`. */
export const rebindApproval = z
  .object({
    request: rebindOut,
    binding: bindingOut,
    commands: z
      .object({ zeroize: z.string(), binding: z.string() })
      .openapi({ description: 'ids of the keys.zeroize and binding.set {wipe: true} commands sent, in that order' }),
  })
  .openapi('RebindApproval');

export const lockInput = z
  .object({ reason: z.enum(lockReasons).default('operator'), note: z.string().trim().max(500).optional() })
  .strict();
export const lockOut = z
  .object({
    locked: z.boolean().openapi({ description: 'true while any reason is open' }),
    version: z.number().int().openapi({ description: 'version of the last lock/unlock command (0: none yet)' }),
    reasons: z.array(
      z.object({
        reason: z.enum(lockReasons),
        note: z.string().nullable(),
        merchantId: z.string().nullable().openapi({ description: 'the suspended merchant (reason merchant_suspended)' }),
        by: z.string().nullable().openapi({ description: 'user id; null when a rule locked it' }),
        since: timestamp,
      }),
    ),
    command: z
      .object({ id: z.string(), type: z.string(), state: z.string(), queued: z.boolean().openapi({ description: 'not applied by the terminal yet' }) })
      .nullable()
      .openapi({ description: 'the last lock or unlock command' }),
  })
  .openapi('LockState');

/** `GET /v1/devices/{id}/binding`. */
export const bindingState = z
  .object({
    deviceId: z.string(),
    bound: z.boolean(),
    binding: orNull(bindingOut, 'the open binding; null when unbound'),
    merchant: z
      .object({ id: z.string(), mid: z.string(), name: z.string(), status: z.string() })
      .nullable()
      .openapi({ description: 'the merchant of the open binding' }),
    lock: lockOut,
    relocation: z
      .object({
        exempt: z.boolean(),
        exemptReason: z.string().nullable(),
        relocated: z.boolean().openapi({ description: 'out of the fence for policy.relocationFixes fixes in a row' }),
        consecutiveOut: z.number().int().openapi({ description: 'fixes out of the fence in a row so far' }),
        lastDistanceM: z.number().nullable().openapi({ description: 'distance of the last fix from the merchant' }),
        lastFixAt: timestamp.nullable(),
      })
      .openapi('RelocationState'),
    pendingRebindRequest: orNull(rebindOut, 'the pending re-binding request, if any'),
  })
  .openapi('BindingState');

export const exemptionInput = z.object({ exempt: z.boolean(), reason: text(500) }).strict();
export const cardInput = z
  .object({
    pan: z
      .string()
      .regex(/^[0-9]{12,19}$/, '12 to 19 digits')
      .optional()
      .openapi({ description: 'hashed at once with the fleet salt; never stored' }),
    cardHash: z
      .string()
      .regex(/^[0-9a-f]{64}$/)
      .optional()
      .openapi({ description: 'the card token: hex(SHA-256(salt ‖ UTF-8(PAN))), 64 lower-case hex digits' }),
    reason: text(500),
  })
  .strict()
  .refine((b) => Boolean(b.pan) !== Boolean(b.cardHash), { message: 'give exactly one of pan or cardHash', path: ['pan'] })
  .openapi('CardBlockInput', { description: 'exactly one of pan or cardHash, and a reason' });
/** `POST /v1/card-blacklist`. */
export const cardBlocked = z
  .object({
    cardHash: z.string().openapi({ description: 'the blocked card token' }),
    added: z.boolean().openapi({ description: 'false when the token was already blocked (nothing changed, nothing pushed)' }),
  })
  .openapi('CardBlocked');
