// HTTP for DUKPT: the BDKs (made by the dual-control ceremony, POST /v1/key-vault/requests) and a
// terminal's DUKPT slots. KSNs, KCVs and counters only: no answer carries a key, wrapped or clear.
import { z } from '@hono/zod-openapi';
import { desc, eq, sql } from 'drizzle-orm';
import { dukptSchemes } from '../../../schemas/keys.ts';
import { bdkStates, bdks, dukptKeys, keyStates, type BdkRow } from '../../../schemas/tables/keys.ts';
import { readers } from '../../auth/roleSets.ts';
import type { Db } from '../../db/database.ts';
import type { DeviceService } from '../../devices/deviceService.ts';
import { notFound } from '../../errors.ts';
import { errorResponses, jsonResponse, pathParams } from '../../http/schemas.ts';
import { routesTagged } from '../../http/taggedRoutes.ts';
import type { AppRouter } from '../../http/types.ts';
import type { DukptService } from './dukptService.ts';
import { bdkView } from './bdkSchema.ts';

const route = routesTagged('keys');
const timestamp = z.string().openapi({ format: 'date-time' });
const kcv = z.string().openapi({ description: 'KCV with its method: `cmac:` (AES) or `enc0:` (TDES) and 6 upper-case hex digits', example: 'cmac:7A3C1B' });
const ksn = z.string().openapi({ description: 'KSN, upper-case hex: AES 24 digits (initial key id ‖ counter), TDES 20', example: '123456789012345600000000' });


const dukptSlot = z
  .object({
    keyId: z.string(),
    slot: z.string(),
    scheme: z.enum(dukptSchemes),
    state: z.enum(keyStates),
    version: z.number().int(),
    kcv: kcv.openapi({ description: 'KCV of the initial key (AES `cmac:`, TDES IPEK `enc0:`)' }),
    bdk: z.object({ id: z.string(), name: z.string(), kcv }),
    initialKsn: ksn,
    ksn: ksn.nullable().openapi({ description: 'the KSN the terminal last reported (its last counter used)' }),
    counter: z.number().int().nullable(),
    countersLeft: z.number().int().nullable(),
    reportedAt: timestamp.nullable(),
    counterLow: z.boolean().openapi({ description: 'fewer than 10 % of the scheme’s counters left: alert dukpt_counter_low is open' }),
    verifiedAt: timestamp.nullable().openapi({ description: 'when the terminal’s round-trip check verified' }),
    verifyError: z.object({ code: z.string(), message: z.string() }).nullable(),
    rotationId: z.string().nullable(),
    createdAt: timestamp,
    installedAt: timestamp.nullable(),
  })
  .openapi('DukptSlot');

export function registerDukptRoutes(app: AppRouter, d: { db: Db; dukpt: DukptService; devices: DeviceService }) {
  const counts = () => d.db.select({ bdkId: dukptKeys.bdkId, n: sql<number>`count(*)::int` }).from(dukptKeys).groupBy(dukptKeys.bdkId);
  const view = (b: BdkRow, n: Map<string, number>) => ({
    id: b.id,
    name: b.name,
    scheme: b.scheme,
    keySetId: b.keySetId,
    kcv: b.kcv,
    state: b.state,
    origin: b.origin,
    nextDerivationId: b.nextDerivationId,
    initialKeys: n.get(b.id) ?? 0,
    requestId: b.requestId,
    createdBy: b.createdBy,
    approvedBy: b.approvedBy,
    createdAt: b.createdAt.toISOString(),
  });

  app.openapi(
    route.get('/v1/bdks', readers, 'DUKPT base derivation keys: name, scheme, key set id, KCV — never the key', {
      responses: { 200: jsonResponse(z.object({ items: z.array(bdkView) }), 'BDKs'), ...errorResponses(401, 403) },
    }),
    async (c) => {
      const n = new Map((await counts()).map((r) => [r.bdkId, r.n]));
      const rows = await d.db.select().from(bdks).orderBy(desc(bdks.createdAt));
      return c.json({ items: rows.map((b) => view(b, n)) }, 200);
    },
  );

  app.openapi(
    route.get('/v1/bdks/{id}', readers, 'One BDK', {
      request: { params: pathParams('id') },
      responses: { 200: jsonResponse(bdkView, 'BDK'), ...errorResponses(401, 403, 404) },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const [b] = await d.db.select().from(bdks).where(eq(bdks.id, id)).limit(1);
      if (!b) throw notFound(`BDK ${id}`);
      const n = new Map((await counts()).map((r) => [r.bdkId, r.n]));
      return c.json(view(b, n), 200);
    },
  );

  app.openapi(
    route.get('/v1/devices/{id}/dukpt', readers, "A terminal's DUKPT initial keys by KSN and KCV, with the counters it last reported", {
      request: { params: pathParams('id') },
      responses: { 200: jsonResponse(z.object({ deviceId: z.string(), items: z.array(dukptSlot) }), 'DUKPT slots'), ...errorResponses(401, 403, 404) },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      await d.devices.byId(id);
      const items = (await d.dukpt.ofDevice(id)).map((r) => ({
        ...r,
        reportedAt: r.reportedAt?.toISOString() ?? null,
        verifiedAt: r.verifiedAt?.toISOString() ?? null,
        createdAt: r.createdAt.toISOString(),
        installedAt: r.installedAt?.toISOString() ?? null,
      }));
      return c.json({ deviceId: id, items }, 200);
    },
  );
}
