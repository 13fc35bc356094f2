// Registering, enrolling, listing and revoking terminals.
import { createHash, timingSafeEqual } from 'node:crypto';
import { and, asc, eq, gt, ilike, inArray, or, sql, type SQL } from 'drizzle-orm';
import { deviceState, devices, type DeviceRow } from '../../schemas/db.ts';
import type { EnrollAnswer, EnrollRequest } from '../../schemas/enrollment.ts';
import type { HealthSample } from '../../schemas/wire.ts';
import type { AuditLog } from '../audit/auditLog.ts';
import type { Actor } from '../core/actor.ts';
import type { Db } from '../db/database.ts';
import { firstOrNotFound } from '../core/firstOrNotFound.ts';
import { newId } from '../core/ids.ts';
import { containing } from '../core/likePattern.ts';
import { isUniqueViolation } from '../core/sqlState.ts';
import { conflict, forbidden, unauthorized, badRequest, unprocessable } from '../errors.ts';
import type { EventBus } from '../events/eventBus.ts';
import type { LiveState } from '../telemetry/liveState.ts';
import type { CredentialCache } from './credentialCache.ts';
import { fromBase64url, keyMatching, toBase64url } from '../http/cursorParts.ts';
import { parseDeviceCsv, SERIAL_PATTERN } from './csvImport.ts';
import { targetOrgId } from '../orgs/orgLookup.ts';
import { scopedTo, type OrgScope } from '../orgs/scope.ts';
import type { TimelineWriter } from './timelineWriter.ts';
import type { CampaignTarget } from '../../schemas/campaigns.ts';
import { createTargetResolver, type ResolveOptions } from '../groups/targets.ts';
import { conditionOf } from '../groups/deviceQueries.ts';
import { countDevices, openFaultsOf } from './deviceListExtras.ts';

export const newDeviceId = () => newId('dev');

export interface DeviceFilter {
  status?: DeviceRow['status'];
  online?: boolean;
  model?: string;
  fwVersion?: string;
  merchantId?: string;
  q?: string;
  /** Devices carrying every one of these labels with these values. */
  labels?: Record<string, string>;
  /** A fleet query (docs/groups-and-filters.md), compiled by server/groups; 400 query_invalid when it does not parse. */
  query?: string;
  /** Only the terminals of this caller's subtree (server/orgs/scope.ts); absent: all. */
  scope?: OrgScope;
}

export interface DeviceServiceDeps {
  db: Db;
  audit: AuditLog;
  bus: EventBus;
  live: LiveState;
  credentials: CredentialCache;
  timeline: TimelineWriter;
  hashSecret: (secret: string) => string;
  generateSecret: () => string;
  enrollToken: string;
  trust: () => EnrollAnswer['trust'];
  mqttUrl: () => string;
  /** Closes a device's live MQTT connection (revocation). */
  disconnect: (deviceId: string) => void;
  /** Tells the other instances of a cluster that these devices' credentials changed (after commit). */
  invalidated?: (deviceIds: string[]) => void;
}

const cursorOf = (serial: string) => toBase64url(serial);
const serialOf = (cursor: string) => keyMatching(fromBase64url(cursor), SERIAL_PATTERN);

/** Compares digests, so neither the content nor the length of the secret leaks through timing. */
function sameSecret(a: string, b: string): boolean {
  const digest = (v: string) => createHash('sha256').update(v).digest();
  return timingSafeEqual(digest(a), digest(b));
}

/** The list filters as SQL conditions (over `devices` left-joined with `device_state`); the device export reads with them too. */
export function filterConditions(filter: DeviceFilter): SQL[] {
  const where: SQL[] = [];
  if (filter.status) where.push(eq(devices.status, filter.status));
  if (filter.model) where.push(eq(devices.model, filter.model));
  if (filter.merchantId) where.push(eq(devices.merchantId, filter.merchantId));
  if (filter.fwVersion) where.push(sql`coalesce(${deviceState.fwVersion}, ${devices.fwVersion}) = ${filter.fwVersion}`);
  if (filter.online !== undefined) where.push(sql`coalesce(${deviceState.online}, false) = ${filter.online}`);
  if (filter.labels && Object.keys(filter.labels).length) where.push(sql`${devices.labels} @> ${JSON.stringify(filter.labels)}::jsonb`);
  if (filter.query) where.push(conditionOf(filter.query));
  const inScope = filter.scope && scopedTo(filter.scope, devices.orgId);
  if (inScope) where.push(inScope);
  if (filter.q) {
    const like = containing(filter.q);
    where.push(or(ilike(devices.serial, like), ilike(devices.id, like), ilike(devices.model, like))!);
  }
  return where;
}

export function createDeviceService(deps: DeviceServiceDeps) {
  const { db } = deps;
  const targets = createTargetResolver(db);

  const byId = (id: string): Promise<DeviceRow> =>
    firstOrNotFound(db.select().from(devices).where(eq(devices.id, id)).limit(1), `device ${id}`);

  // Presence, last-seen time and firmware are in this instance's live state for every terminal of
  // a cluster; the latest health sample only on the instance holding it (telemetry never crosses
  // instances): a terminal whose presence a peer told comes with device_state's copy instead,
  // which its holder rewrites every few seconds.
  const withLive = (row: DeviceRow, stored?: { health: HealthSample | null } | null) => {
    const live = deps.live.get(row.id);
    return {
      ...row,
      secretHash: undefined,
      online: live?.online ?? false,
      connected: live?.connected ?? false,
      lastSeenAt: live?.lastSeenMs ? new Date(live.lastSeenMs).toISOString() : null,
      reportedFwVersion: live?.fwVersion ?? row.fwVersion,
      slot: live?.slot ?? null,
      health: (live?.fromPeer ? stored?.health : live?.health) ?? null,
    };
  };

  return {
    byId,

    /** The device, or 422 device_not_enrolled: commands (of any route) go to enrolled terminals only. */
    async enrolledById(id: string): Promise<DeviceRow> {
      const row = await byId(id);
      if (row.status !== 'enrolled')
        throw unprocessable('device_not_enrolled', `device ${id} is ${row.status}; commands go to enrolled terminals`);
      return row;
    },

    /** `orgId`: a node of the caller's subtree (404 otherwise); default the caller's own node. */
    async register(input: { serial: string; model: string; labels?: Record<string, string>; orgId?: string }, actor: Actor) {
      try {
        const row = await db.transaction(async (tx) => {
          const orgId = await targetOrgId(tx, actor.principal, input.orgId);
          const [r] = await tx
            .insert(devices)
            .values({ id: newDeviceId(), serial: input.serial, model: input.model, labels: input.labels ?? {}, orgId })
            .returning();
          await deps.audit.append(
            {
              actor: actor.principal,
              action: 'device.register',
              target: r!.id,
              ip: actor.ip,
              data: { serial: r!.serial, model: r!.model },
            },
            tx,
          );
          return r!;
        });
        deps.timeline.add({ deviceId: row.id, kind: 'registered', summary: `registered as ${row.model} ${row.serial}` });
        deps.bus.emit('device.registered', { deviceId: row.id, serial: row.serial });
        return row;
      } catch (err) {
        if (isUniqueViolation(err))
          throw conflict('serial_exists', `a device with serial ${input.serial} is already registered`, undefined, { cause: err });
        throw err;
      }
    },

    /** All rows and the audit entry in one transaction: an import is recorded whole or not made. */
    async importCsv(text: string, actor: Actor, into?: { orgId?: string }) {
      const parsed = parseDeviceCsv(text);
      const skipped: { line: number; serial: string; reason: string }[] = [];
      const made: { id: string }[] = [];
      await db.transaction(async (tx) => {
        const orgId = await targetOrgId(tx, actor.principal, into?.orgId);
        for (let i = 0; i < parsed.rows.length; i += 500) {
          const chunk = parsed.rows.slice(i, i + 500);
          const inserted = await tx
            .insert(devices)
            .values(chunk.map((r) => ({ id: newDeviceId(), serial: r.serial, model: r.model, labels: r.labels, orgId })))
            .onConflictDoNothing({ target: devices.serial })
            .returning({ id: devices.id, serial: devices.serial });
          made.push(...inserted);
          const serials = new Set(inserted.map((r) => r.serial));
          for (const r of chunk) if (!serials.has(r.serial)) skipped.push({ line: r.line, serial: r.serial, reason: 'already_registered' });
        }
        const data = { created: made.length, skipped: skipped.length, errors: parsed.errors.length };
        await deps.audit.append({ actor: actor.principal, action: 'device.import', ip: actor.ip, data }, tx);
      });
      for (const r of made) deps.timeline.add({ deviceId: r.id, kind: 'registered', summary: 'registered by import' });
      return { created: made.length, skipped, errors: parsed.errors };
    },

    /** A page by serial, each terminal with its open faults; the first page (no cursor) also counts every match. */
    async list(filter: DeviceFilter, limit: number, cursor?: string) {
      const where = filterConditions(filter);
      const total = cursor ? undefined : await countDevices(db, where);
      if (cursor) where.push(gt(devices.serial, serialOf(cursor)));
      const rows = await db
        .select({ device: devices, health: deviceState.health })
        .from(devices)
        .leftJoin(deviceState, eq(deviceState.deviceId, devices.id))
        .where(and(...where))
        .orderBy(asc(devices.serial))
        .limit(limit + 1);
      const shown = rows.slice(0, limit);
      const open = await openFaultsOf(
        db,
        shown.map((r) => r.device.id),
      );
      const page = shown.map((r) => ({ ...withLive(r.device, r), openFaults: open.get(r.device.id) ?? [] }));
      const last = page[page.length - 1];
      return {
        items: page,
        nextCursor: rows.length > limit && last ? cursorOf(last.serial) : null,
        ...(total === undefined ? {} : { total }),
      };
    },

    async detail(id: string) {
      const row = await byId(id);
      if (!deps.live.get(id)?.fromPeer) return withLive(row);
      const [stored] = await db.select({ health: deviceState.health }).from(deviceState).where(eq(deviceState.deviceId, id)).limit(1);
      return withLive(row, stored);
    },

    async enroll(input: EnrollRequest): Promise<EnrollAnswer> {
      if (!sameSecret(input.enrollToken, deps.enrollToken)) throw unauthorized('wrong enrollment token', 'bad_enroll_token');
      const kek = Buffer.from(input.kekPublicKey, 'base64');
      if (kek.length !== 32)
        throw badRequest('validation_failed', 'kekPublicKey must be base64 of a raw 32-byte X25519 public key', [
          { path: 'kekPublicKey', message: 'must decode to 32 bytes' },
        ]);
      const [row] = await db.select().from(devices).where(eq(devices.serial, input.serial)).limit(1);
      if (!row) throw forbidden(`serial ${input.serial} is not registered`, 'not_registered');
      if (row.model !== input.model) throw forbidden(`serial ${input.serial} is registered as model ${row.model}`, 'model_mismatch');
      if (row.status === 'enrolled')
        throw conflict('already_enrolled', `serial ${input.serial} is already enrolled; an operator must reset its enrollment first`);
      if (row.status === 'revoked') throw forbidden(`device ${row.id} is revoked`, 'revoked');
      if (row.status === 'blacklisted') throw forbidden(`device ${row.id} is blacklisted`, 'blacklisted');
      const secret = deps.generateSecret();
      const secretHash = deps.hashSecret(secret);
      // The status guard makes two racing enrollments of one serial produce one winner.
      const updated = await db
        .update(devices)
        .set({
          status: 'enrolled',
          secretHash,
          kekPublicKey: input.kekPublicKey,
          fwVersion: input.fwVersion,
          enrolledAt: new Date(),
          updatedAt: new Date(),
        })
        .where(and(eq(devices.id, row.id), eq(devices.status, 'registered')))
        .returning({ id: devices.id });
      if (!updated.length) throw conflict('already_enrolled', `serial ${input.serial} is already enrolled`);
      deps.credentials.set(row.id, { secretHash, status: 'enrolled' });
      deps.invalidated?.([row.id]);
      deps.timeline.add({ deviceId: row.id, kind: 'enrolled', summary: `enrolled with firmware ${input.fwVersion}` });
      deps.bus.emit('device.enrolled', { deviceId: row.id, serial: row.serial });
      return {
        deviceId: row.id,
        mqtt: { url: deps.mqttUrl(), username: row.id, password: secret },
        trust: deps.trust(),
      };
    },

    /** The row and its audit entry commit together; the connection is closed only after the commit. */
    async revoke(id: string, reason: string | undefined, actor: Actor) {
      const entry = { actor: actor.principal, action: 'device.revoke', target: id, ip: actor.ip, data: { reason } };
      const row = await byId(id);
      if (row.status === 'revoked') {
        await deps.audit.append(entry);
        return withLive(row);
      }
      const updated = await db.transaction(async (tx) => {
        const [r] = await tx
          .update(devices)
          .set({ status: 'revoked', revokedAt: new Date(), updatedAt: new Date() })
          .where(eq(devices.id, id))
          .returning();
        await deps.audit.append(entry, tx);
        return r;
      });
      deps.credentials.set(id, { secretHash: updated!.secretHash, status: 'revoked' });
      deps.invalidated?.([id]);
      deps.disconnect(id);
      deps.timeline.add({ deviceId: id, kind: 'revoked', summary: reason ? `revoked: ${reason}` : 'revoked' });
      deps.bus.emit('device.revoked', { deviceId: id });
      return withLive(updated!);
    },

    async resetEnrollment(id: string, reason: string | undefined, actor: Actor) {
      // A reset must not be a way around the blacklist.
      if ((await byId(id)).status === 'blacklisted')
        throw conflict('blacklisted', `device ${id} is blacklisted; take it off the blacklist first`);
      const updated = await db.transaction(async (tx) => {
        const [r] = await tx
          .update(devices)
          .set({ status: 'registered', secretHash: null, kekPublicKey: null, enrolledAt: null, revokedAt: null, updatedAt: new Date() })
          .where(eq(devices.id, id))
          .returning();
        await deps.audit.append(
          { actor: actor.principal, action: 'device.reset_enrollment', target: id, ip: actor.ip, data: { reason } },
          tx,
        );
        return r;
      });
      deps.credentials.set(id, { secretHash: null, status: 'registered' });
      deps.invalidated?.([id]);
      deps.disconnect(id);
      deps.timeline.add({ deviceId: id, kind: 'enrollment_reset', summary: 'enrollment reset: the terminal may enroll again' });
      return withLive(updated!);
    },

    /** Ids of enrolled devices matching a filter (for bulk commands). */
    /** Ids only: a fleet-wide command reads tens of thousands, and whole rows cost the broker's thread. */
    async idsMatching(filter: DeviceFilter, max: number): Promise<string[]> {
      const rows = await db
        .select({ id: devices.id })
        .from(devices)
        .leftJoin(deviceState, eq(deviceState.deviceId, devices.id))
        .where(and(...filterConditions({ ...filter, status: filter.status ?? 'enrolled' })))
        .orderBy(asc(devices.serial))
        .limit(max);
      return rows.map((r) => r.id);
    },

    /**
     * Ids of the enrolled terminals a target names, by serial, at most `max`: the one resolution of
     * campaigns, fleet command batches, exports and parameter pushes. Ids come back as given (their
     * callers check them); the field filter as idsMatching; a group, saved filter or fleet query
     * through server/groups/targets.ts.
     */
    async idsForTarget(target: CampaignTarget, max: number, opts: ResolveOptions = {}): Promise<string[]> {
      if ('deviceIds' in target) return [...new Set(target.deviceIds)].slice(0, max);
      if (!('filter' in target)) return targets.ids(target, max, opts);
      const rows = await db
        .select({ id: devices.id })
        .from(devices)
        .leftJoin(deviceState, eq(deviceState.deviceId, devices.id))
        .where(
          and(...filterConditions({ ...target.filter, status: 'enrolled' }), opts.scope ? scopedTo(opts.scope, devices.orgId) : undefined),
        )
        .orderBy(asc(devices.serial))
        .limit(max);
      return rows.map((r) => r.id);
    },

    /** Status of each of these devices that exists (and, given a scope, is in the caller's subtree). */
    async existing(ids: string[], scope?: OrgScope): Promise<Map<string, DeviceRow['status']>> {
      const found = new Map<string, DeviceRow['status']>();
      const visible = scope && scopedTo(scope, devices.orgId);
      for (let i = 0; i < ids.length; i += 1000) {
        const rows = await db
          .select({ id: devices.id, status: devices.status })
          .from(devices)
          .where(and(inArray(devices.id, ids.slice(i, i + 1000)), visible));
        for (const r of rows) found.set(r.id, r.status);
      }
      return found;
    },
  };
}

export type DeviceService = ReturnType<typeof createDeviceService>;
