// The campaign contract (SPEC §4 rollout controls, reused by key rotations §5): the generic part of
// a create request, and the per-device states and actions a campaign reports. The server's
// engine (server/campaigns/), its tables (schemas/tables/campaigns.ts) and the OpenAPI document
// all take these; nothing retypes them.
import { z } from 'zod';
import { groupTarget, queryTarget, savedFilterTarget } from './fleetQuery.ts';
import { maintenanceWindow } from './ota.ts';

export const progressDeviceStates = ['downloading', 'installing', 'rebooting'] as const;
export type ProgressDeviceState = (typeof progressDeviceStates)[number];
/** A member in one of these is done with the campaign. */
export const finalDeviceStates = ['succeeded', 'failed', 'rolled_back', 'cancelled', 'timed_out', 'skipped'] as const;
/** Per-device states (SPEC §4). The progress states are the kind's stages between `sent` and a final state. */
export const campaignDeviceStates = ['pending', 'sent', ...progressDeviceStates, ...finalDeviceStates] as const;
export type CampaignDeviceState = (typeof campaignDeviceStates)[number];

/** What a device's current send does: the campaign's change, or undoing it in a rollback. */
export const campaignDeviceActions = ['apply', 'revert'] as const;
export type CampaignDeviceAction = (typeof campaignDeviceActions)[number];

export const MAX_TARGET = 100_000;

export const targetFilter = z
  .object({
    model: z.string().max(64).optional(),
    fwVersion: z.string().max(64).optional(),
    merchantId: z.string().max(64).optional(),
    q: z.string().max(100).optional(),
    /** Devices carrying every one of these labels with exactly these values. */
    labels: z.record(z.string().min(1).max(64), z.string().max(256)).optional(),
  })
  .strict();
export type TargetFilter = z.infer<typeof targetFilter>;

export const campaignTarget = z.union([
  z.object({ deviceIds: z.array(z.string().min(1).max(64)).min(1).max(MAX_TARGET) }).strict(),
  z.object({ filter: targetFilter }).strict(),
  groupTarget,
  savedFilterTarget,
  queryTarget,
]);
/** Every form a target takes: ids, the field filter, a static group, a saved filter, a fleet query (docs/groups-and-filters.md). */
export type CampaignTarget = z.infer<typeof campaignTarget>;

const percent = z.number().min(0).max(100);

export const campaignSpecShape = {
  target: campaignTarget,
  /** Keeps the campaign open to devices that start to match the target later (any target but deviceIds). */
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
  /** The draft starts by itself at this instant (an operator may still start or cancel it before). */
  startAt: z.iso.datetime({ offset: true }).optional(),
  /**
   * Each terminal is served only inside the recurring maintenance windows set for its merchant,
   * groups or organisation (docs/maintenance-windows.md); true serves it at any hour (an urgent fix).
   */
  ignoreMaintenanceWindows: z.boolean().default(false),
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

/** The staging docs/ota.md shows for a fleet-wide rollout: a 1 % canary, 9 % early, then the rest. */
export const canaryEarlyRestPhases = (): CampaignSpec['phases'] => [
  { name: 'canary', percent: 1 },
  { name: 'early', percent: 9 },
  { name: 'rest', percent: 90 },
];
