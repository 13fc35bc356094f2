// The generic part of a campaign request (SPEC §4 rollout controls, reused by key rotations §5).
import { z } from '@hono/zod-openapi';
import { maintenanceWindow } from '../../schemas/ota.ts';

export const MAX_TARGET = 100_000;

export const targetFilter = z
  .object({
    model: z.string().max(64).optional(),
    fwVersion: z.string().max(64).optional(),
    merchantId: z.string().max(64).optional(),
    q: z.string().max(100).optional(),
  })
  .strict();

export const campaignTarget = z.union([
  z.object({ deviceIds: z.array(z.string().min(1).max(64)).min(1).max(MAX_TARGET) }).strict(),
  z.object({ filter: targetFilter }).strict(),
]);

const percent = z.number().min(0).max(100);

export const campaignSpecShape = {
  target: campaignTarget,
  /** Keeps the campaign open to devices that start to match the filter later. */
  dynamic: z.boolean().default(false),
  /** Each phase's share of the target, in percent; the shares add up to 100. */
  phases: z
    .array(z.object({ name: z.string().min(1).max(64), percent: z.number().gt(0).max(100) }).strict())
    .min(1)
    .max(20)
    .refine((p) => Math.abs(p.reduce((s, x) => s + x.percent, 0) - 100) < 1e-9, 'phase percents must add up to 100'),
  /** A phase has passed when succeeded/total ≥ this percent; the next one then starts. */
  successThreshold: percent,
  /** When (failed + rolled_back + timed_out)/total of a phase exceeds this percent, the campaign stops. */
  errorThreshold: percent,
  onErrorThreshold: z.enum(['pause', 'rollback']).default('pause'),
  rate: z
    .object({
      maxPerMinute: z.number().int().min(1).max(1_000_000),
      /** The limit of phase n is maxPerMinute · rampFactor^n. */
      rampFactor: z.number().min(1).max(100).default(1),
    })
    .strict()
    .optional(),
  /** Terminal local time. */
  window: maintenanceWindow.optional(),
  /** A device that has received its command and is silent this long becomes timed_out. */
  deviceTimeoutS: z
    .number()
    .int()
    .min(1)
    .max(30 * 24 * 3600)
    .default(3600),
  /** Further attempts after a transient failure (with exponential backoff). */
  retries: z.number().int().min(0).max(20).default(2),
};

export const campaignSpec = z.object(campaignSpecShape).strict();
export type CampaignSpec = z.infer<typeof campaignSpec>;
export type CampaignSpecInput = z.input<typeof campaignSpec>;
