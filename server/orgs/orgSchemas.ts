// Requests and answers of /v1/orgs (docs/organisations.md).
import { z } from '@hono/zod-openapi';
import { MAX_ALLOCATION } from './allocation.ts';

const name = z.string().trim().min(1).max(200);
/** An organisation id: `org_…` (the root is `org_root`). */
export const orgIdField = z
  .string()
  .regex(/^org_[A-Za-z0-9_-]{1,60}$/, 'an organisation id, org_…')
  .openapi({ description: 'organisation id (`org_…`); must be the caller’s node or below it', example: 'org_root' });

export const orgCreate = z
  .object({ name, parentId: orgIdField.optional().openapi({ description: 'the parent node; default the caller’s own node' }) })
  .strict()
  .openapi('OrganisationCreate');

export const orgPatch = z.object({ name }).strict().openapi('OrganisationPatch');

export const orgOut = z
  .object({
    id: z.string(),
    parentId: z.string().nullable().openapi({ description: 'null for the root' }),
    name: z.string(),
    path: z.string().openapi({ description: 'ids from the root, `/org_root/org_a/`; a subtree is every path it prefixes' }),
    depth: z.number().int().openapi({ description: '0 for the root' }),
    counts: z
      .object({ users: z.number().int(), merchants: z.number().int(), terminals: z.number().int() })
      .openapi({ description: 'members of this node itself, not of the nodes below it' }),
    createdBy: z.string().nullable(),
    createdAt: z.string().openapi({ format: 'date-time' }),
  })
  .openapi('Organisation');

const ids = (what: string, item: z.ZodString) => z.array(item).min(1).max(MAX_ALLOCATION).openapi({ description: `${what}, at most ${MAX_ALLOCATION}` });

export const allocationBody = z
  .union([
    z.object({ deviceIds: ids('terminal ids', z.string().min(1).max(64)) }).strict(),
    z.object({ serials: ids('terminal serials', z.string().min(1).max(64)) }).strict(),
  ])
  .openapi('AllocationRequest');

export const allocationOut = z
  .object({
    moved: z.number().int(),
    refused: z
      .array(z.object({ id: z.string(), code: z.enum(['not_found', 'terminal_bound']) }))
      .openapi({ description: '`id` as asked (a device id or a serial); `terminal_bound`: it moves only with its merchant' }),
  })
  .openapi('AllocationResult');

export const merchantMoveBody = z.object({ orgId: orgIdField }).strict().openapi('MerchantMove');
export const merchantMoveOut = z
  .object({ merchantId: z.string(), orgId: z.string(), terminalsMoved: z.number().int() })
  .openapi('MerchantMoved');
