// Request and response shapes of the merchant API (validation happens here, at the edge).
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

export const idParams = () =>
  z.object({
    id: z
      .string()
      .min(1)
      .max(64)
      .openapi({ param: { name: 'id', in: 'path' } }),
  });
export const hashParams = z.object({
  hash: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .openapi({ param: { name: 'hash', in: 'path' } }),
});
export const deviceParams = z.object({
  id: z
    .string()
    .min(1)
    .max(64)
    .openapi({ param: { name: 'id', in: 'path' } }),
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
  })
  .strict()
  .openapi('MerchantInput');

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

export const merchantOut = z
  .looseObject({
    id: z.string(),
    mid: z.string(),
    name: z.string(),
    status: z.enum(merchantStatuses),
    kind: z.enum(merchantKinds),
    policy: merchantPolicy,
  })
  .openapi('Merchant');

export const reasonBody = z.object({ reason: text(500) }).strict();
export const noteBody = z.object({ note: z.string().trim().max(500).optional() }).strict();
export const optionalBody = <T extends z.ZodType>(schema: T) => ({ required: false, content: { 'application/json': { schema } } });

export const bindingInput = z
  .object({ merchantId: z.string().min(1).max(64), tid: z.string().regex(TID_PATTERN, '8 upper-case letters or digits') })
  .strict();
export const rebindInput = bindingInput.extend({ reason: text(500) }).strict();

export const bindingOut = z
  .looseObject({
    id: z.string(),
    deviceId: z.string(),
    merchantId: z.string(),
    tid: z.string(),
    epoch: z.number(),
    closedAt: z.string().nullable().or(z.date().nullable()),
  })
  .openapi('Binding');

export const rebindOut = z
  .looseObject({
    id: z.string(),
    deviceId: z.string(),
    merchantId: z.string(),
    tid: z.string(),
    status: z.enum(rebindStatuses),
    requestedBy: z.string(),
  })
  .openapi('RebindRequest');

export const lockInput = z
  .object({ reason: z.enum(lockReasons).default('operator'), note: z.string().trim().max(500).optional() })
  .strict();
export const lockOut = z
  .looseObject({
    locked: z.boolean(),
    version: z.number(),
    reasons: z.array(z.looseObject({ reason: z.string() })),
    command: z.looseObject({ id: z.string(), state: z.string(), queued: z.boolean() }).nullable(),
  })
  .openapi('LockState');

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
      .optional(),
    reason: text(500),
  })
  .strict()
  .refine((b) => Boolean(b.pan) !== Boolean(b.cardHash), { message: 'give exactly one of pan or cardHash', path: ['pan'] });
