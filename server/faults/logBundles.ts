// `logs.upload`: a technician asks for a terminal's logs; the terminal PUTs a bundle to a signed,
// expiring link; the bundle is streamed to DATA_DIR/logs (size-limited) and can be downloaded.
import { createHash, randomBytes } from 'node:crypto';
import { firstOrNotFound } from '../core/firstOrNotFound.ts';
import { byteStream } from '../core/byteStream.ts';
import { newId } from '../core/ids.ts';
import { decodeTimeCursor, newestFirstPage, olderThan } from '../http/timeCursor.ts';
import { createReadStream, createWriteStream } from 'node:fs';
import { rename, stat, unlink } from 'node:fs/promises';
import { once } from 'node:events';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { and, desc, eq, lt } from 'drizzle-orm';
import { finalCommandStates, type CommandRow } from '../../schemas/db.ts';
import { logBundles, type LogBundleRow } from '../../schemas/tables/faults.ts';
import type { CommandService, InCommandTx } from '../commands/commandService.ts';
import type { Db } from '../db/database.ts';
import type { TimelineWriter } from '../devices/timelineWriter.ts';
import { AppError, badRequest, conflict, forbidden, notFound } from '../errors.ts';
import type { EventBus, LiveEvents } from '../events/eventBus.ts';
import type { Logger } from '../log.ts';
import { ensurePrivateDir, PRIVATE_FILE_MODE } from '../security/privateDir.ts';
import type { SecretHasher } from '../security/secretHasher.ts';
import { checkUpload, signUpload, uploadUrl } from './signedUrl.ts';

export const BUNDLE_ID = /^lb_[A-Za-z0-9_-]{16}$/;

export interface LogBundleDeps {
  db: Db;
  commands: CommandService;
  bus: EventBus;
  timeline: TimelineWriter;
  hasher: SecretHasher;
  log: Logger;
  dataDir: string;
  httpUrl: () => string;
  maxBytes: number;
}

export function logBundleView(r: LogBundleRow) {
  return {
    id: r.id,
    deviceId: r.deviceId,
    cmdId: r.cmdId,
    state: r.state,
    requestedBy: r.requestedBy,
    requestedAt: r.requestedAt.toISOString(),
    expiresAt: r.expiresAt.toISOString(),
    uploadedAt: r.uploadedAt?.toISOString() ?? null,
    sizeBytes: r.sizeBytes,
    sha256: r.sha256,
    contentType: r.contentType,
    error: r.error,
    downloadPath: r.state === 'uploaded' ? `/v1/devices/${r.deviceId}/logs/${r.id}` : null,
  };
}

export function createLogBundles(deps: LogBundleDeps) {
  const { db } = deps;
  const dir = join(deps.dataDir, 'logs');
  const fileOf = (id: string) => join(dir, `${id}.log`);

  function emit(r: Pick<LogBundleRow, 'deviceId' | 'id' | 'cmdId' | 'state'>) {
    deps.bus.emit('logs.updated', { deviceId: r.deviceId, id: r.id, cmdId: r.cmdId, state: r.state });
  }

  /** Whether a change is a log upload that ended without its bundle: checked before any promise is made, for every ack. */
  const uploadFailed = (e: LiveEvents['command.updated']) =>
    e.type === 'logs.upload' && e.state !== 'succeeded' && finalCommandStates.includes(e.state);

  async function onCommand(e: LiveEvents['command.updated']) {
    // The terminal could not upload (or never got the command): the bundle will not come.
    const error = e.error ?? { code: e.state, message: `command ${e.state}` };
    const [r] = await db
      .update(logBundles)
      .set({ state: 'failed', error })
      .where(and(eq(logBundles.cmdId, e.id), eq(logBundles.state, 'requested')))
      .returning();
    if (r) {
      deps.timeline.add({ deviceId: r.deviceId, kind: 'logs', summary: `log upload failed: ${error.code}`, data: { bundleId: r.id, cmdId: e.id } });
      emit(r);
    }
  }

  return {
    start() {
      ensurePrivateDir(dir);
      return deps.bus.on('command.updated', (e) => {
        if (uploadFailed(e)) void onCommand(e).catch((err: unknown) => deps.log.warn({ err }, 'log bundle update failed'));
      });
    },

    /** The bundle, its command and `inTx` (the request's audit entry) commit together. */
    async request(deviceId: string, by: string | null, ttlS: number, inTx?: InCommandTx<{ bundle: LogBundleRow; cmd: CommandRow }>) {
      const id = newId('lb');
      const now = Date.now();
      const expMs = now + ttlS * 1000;
      const url = uploadUrl(deps.httpUrl(), id, expMs, signUpload(deps.hasher, id, expMs));
      // Filled in the transaction: the row as stored, for the answer and the event.
      const stored: { bundle?: LogBundleRow } = {};
      const cmd = await deps.commands.create(deviceId, { type: 'logs.upload', payload: { url, bundleId: id }, ttlS, createdBy: by }, async (tx, c) => {
        [stored.bundle] = await tx
          .insert(logBundles)
          .values({ id, deviceId, state: 'requested', cmdId: c.id, requestedBy: by, requestedAt: new Date(now), expiresAt: new Date(expMs) })
          .returning();
        await inTx?.(tx, { bundle: stored.bundle!, cmd: c });
      });
      deps.timeline.add({ deviceId, kind: 'logs', summary: 'log bundle requested', data: { bundleId: id, cmdId: cmd.id, by } });
      emit(stored.bundle!);
      return { bundle: stored.bundle!, cmd };
    },

    /** The terminal's PUT to the signed link. */
    async receive(input: { id: string; exp: string; sig: string; contentLength?: number; contentType?: string; body: WebReadableStream<Uint8Array> | null }) {
      if (!BUNDLE_ID.test(input.id)) throw notFound(`log bundle ${input.id}`);
      const check = checkUpload(deps.hasher, input.id, input.exp, input.sig, Date.now());
      if (!check.ok) throw forbidden(check.reason === 'expired' ? 'the upload link has expired' : 'the upload link is not valid', check.reason === 'expired' ? 'link_expired' : 'bad_signature');
      if (input.contentLength !== undefined && input.contentLength > deps.maxBytes) throw tooLarge(deps.maxBytes);
      const row = await firstOrNotFound(db.select().from(logBundles).where(eq(logBundles.id, input.id)).limit(1), `log bundle ${input.id}`);
      if (row.state !== 'requested') throw conflict('bundle_not_requested', `log bundle ${input.id} is ${row.state}`);
      if (!input.body) throw badRequest('empty_body', 'no log bundle in the request body');

      const tmp = `${fileOf(input.id)}.${randomBytes(4).toString('hex')}.part`;
      const out = createWriteStream(tmp, { flags: 'wx', mode: PRIVATE_FILE_MODE });
      const hash = createHash('sha256');
      let size = 0;
      try {
        for await (const chunk of Readable.fromWeb(input.body)) {
          const buf = chunk as Buffer;
          size += buf.length;
          if (size > deps.maxBytes) throw tooLarge(deps.maxBytes);
          hash.update(buf);
          if (!out.write(buf)) await once(out, 'drain');
        }
        out.end();
        await once(out, 'finish');
      } catch (err) {
        out.destroy();
        await unlink(tmp).catch(() => undefined);
        throw err;
      }
      const [done] = await db
        .update(logBundles)
        .set({
          state: 'uploaded',
          uploadedAt: new Date(),
          sizeBytes: size,
          sha256: hash.digest('hex'),
          contentType: (input.contentType ?? 'application/octet-stream').slice(0, 100),
          attempts: row.attempts + 1,
        })
        .where(and(eq(logBundles.id, input.id), eq(logBundles.state, 'requested')))
        .returning();
      if (!done) {
        await unlink(tmp).catch(() => undefined);
        throw conflict('bundle_not_requested', `log bundle ${input.id} was uploaded meanwhile`);
      }
      await rename(tmp, fileOf(input.id));
      deps.timeline.add({ deviceId: done.deviceId, kind: 'logs', summary: `log bundle uploaded (${size} bytes)`, data: { bundleId: done.id, sizeBytes: size } });
      emit(done);
      return done;
    },

    async list(deviceId: string, limit: number, cursor?: string) {
      const before = cursor ? decodeTimeCursor(cursor) : undefined;
      const rows = await db
        .select()
        .from(logBundles)
        .where(
          and(
            eq(logBundles.deviceId, deviceId),
            olderThan(logBundles.requestedAt, logBundles.id, before),
          ),
        )
        .orderBy(desc(logBundles.requestedAt), desc(logBundles.id))
        .limit(limit + 1);
      const page = newestFirstPage(rows, limit, (r) => ({ at: r.requestedAt, id: r.id }));
      return { items: page.items.map(logBundleView), nextCursor: page.nextCursor };
    },

    /** Deletes bundles (files and rows) requested before `cutoff`; returns how many. */
    async purge(cutoff: Date): Promise<number> {
      const old = await db.delete(logBundles).where(lt(logBundles.requestedAt, cutoff)).returning({ id: logBundles.id });
      for (const r of old) await unlink(fileOf(r.id)).catch(() => undefined);
      return old.length;
    },

    /** The stored file of an uploaded bundle. */
    async open(deviceId: string, id: string) {
      const mine = and(eq(logBundles.id, id), eq(logBundles.deviceId, deviceId));
      const row = await firstOrNotFound(db.select().from(logBundles).where(mine).limit(1), `log bundle ${id}`);
      if (row.state !== 'uploaded') throw conflict('bundle_not_uploaded', `log bundle ${id} is ${row.state}`);
      const file = fileOf(id);
      const info = await stat(file).catch(() => null);
      if (!info) throw notFound(`file of log bundle ${id}`);
      return { row, size: info.size, stream: () => byteStream(createReadStream(file)) };
    },
  };
}

const tooLarge = (max: number) => new AppError(413, 'payload_too_large', `log bundle over ${max} bytes`);

export type LogBundles = ReturnType<typeof createLogBundles>;
