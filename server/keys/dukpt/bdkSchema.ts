// A BDK as GET /v1/bdks answers it, in a module of its own (zod and the tables' enums only) so the
// console's keys page parses it without bundling the DUKPT routes' server code. Never the key.
import { z } from '@hono/zod-openapi';
import { dukptSchemes } from '../../../schemas/keys.ts';
import { bdkStates } from '../../../schemas/tables/keys.ts';
import { kcv, timestamp } from '../keySchemas.ts';

export const bdkView = z
  .object({
    id: z.string(),
    name: z.string(),
    scheme: z.enum(dukptSchemes),
    keySetId: z
      .string()
      .openapi({
        description:
          'AES: the BDK id (first 8 hex digits of every initial key id); TDES: the key set id (first 10 hex digits of every KSN)',
      }),
    kcv,
    state: z.enum(bdkStates),
    origin: z.enum(['imported', 'generated']),
    nextDerivationId: z.number().int().openapi({ description: 'the derivation id the next terminal gets' }),
    initialKeys: z.number().int().openapi({ description: 'initial keys derived from it so far' }),
    requestId: z.string().openapi({ description: 'the dual-control request that made it' }),
    createdBy: z.string(),
    approvedBy: z.string().nullable(),
    createdAt: timestamp,
  })
  .openapi('Bdk');
