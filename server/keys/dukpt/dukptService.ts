// DUKPT on the server (docs/keys.md "DUKPT injection", "DUKPT inventory"): an initial key for a
// terminal in a rotation's keys.install, recorded by KSN and KCV (the key itself is never stored:
// the BDK gives it again); the terminal's answers read back — its round-trip check verified, its
// transaction counters stored, and the `dukpt_counter_low` alert raised or cleared.
import { and, desc, eq, inArray, sql } from 'drizzle-orm';
import { isValidCounter } from '../../../schemas/keyCrypto/dukptAes.ts';
import { counterOf, isValidCounter as isValidTdesCounter, withCounter } from '../../../schemas/keyCrypto/dukptTdes.ts';
import { keysInstallResult, type DukptCheck, type KeyInstallItem } from '../../../schemas/keys.ts';
import { bdks, dukptKeys, keys, type BdkRow } from '../../../schemas/tables/keys.ts';
import type { ErrorInfo } from '../../../schemas/wire.ts';
import { createBatcher } from '../../db/batcher.ts';
import type { Db } from '../../db/database.ts';
import type { TimelineWriter } from '../../devices/timelineWriter.ts';
import { conflict, unprocessable } from '../../errors.ts';
import type { EventBus } from '../../events/eventBus.ts';
import type { Logger } from '../../log.ts';
import type { Expected } from '../ackCheck.ts';
import type { KeyCustody } from '../keyCustody.ts';
import { newKeyId } from '../keyIds.ts';
import type { Prepared } from '../keyService.ts';
import { initialKsn, isCounterLow } from './dukptMath.ts';
import { createInitialKeys, isCheckPin } from './initialKeys.ts';

export const COUNTER_LOW_ALERT = 'dukpt_counter_low';
/** Terminals whose flagged keys one query reads (a few hundred ids stay well within one statement's parameters). */
const FLAGGED_LOOKUP_BATCH = 500;

export interface DukptServiceDeps {
  db: Db;
  custody: () => KeyCustody;
  timeline: TimelineWriter;
  bus: EventBus;
  log: Logger;
}

/** The initial KSN a reported KSN belongs to (its counter cleared). */
export function initialOf(ksnHex: string): string {
  return ksnHex.length === 24 ? `${ksnHex.slice(0, 16)}00000000` : withCounter(Buffer.from(ksnHex, 'hex'), 0).toString('hex').toUpperCase();
}

export function createDukptService(deps: DukptServiceDeps) {
  const { db } = deps;
  const vault = createInitialKeys(deps.custody);

  async function activeBdk(id: string): Promise<BdkRow & { sealed: string }> {
    const [b] = await db.select().from(bdks).where(eq(bdks.id, id)).limit(1);
    if (!b) throw unprocessable('unknown_bdk', `BDK ${id} does not exist`);
    if (b.state !== 'active' || !b.sealed) throw conflict('bdk_not_active', `BDK ${id} is retired`);
    return { ...b, sealed: b.sealed };
  }

  /** The next derivation id of the BDK, never handed out twice. */
  async function allocate(b: BdkRow): Promise<number> {
    const max = b.scheme === 'tdes' ? 2 ** 19 - 1 : 2 ** 32 - 1;
    const [r] = await db
      .update(bdks)
      .set({ nextDerivationId: sql`${bdks.nextDerivationId} + 1` })
      .where(and(eq(bdks.id, b.id), sql`${bdks.nextDerivationId} <= ${max}`))
      .returning({ next: bdks.nextDerivationId });
    if (!r) throw conflict('bdk_exhausted', `BDK ${b.name} has handed out every derivation id`);
    return r.next - 1;
  }

  /** The TMK the initial key travels under: the one this install sends, else the installed one. */
  async function tmkOf(deviceId: string, items: readonly KeyInstallItem[]) {
    const sent = items.find((i) => i.usage === 'TMK');
    const [t] = await db
      .select({ id: keys.id, version: keys.version, sealed: keys.sealed })
      .from(keys)
      .where(and(eq(keys.deviceId, deviceId), eq(keys.usage, 'TMK'), sent ? eq(keys.id, sent.keyId) : eq(keys.state, 'installed')))
      .limit(1);
    if (!t?.sealed) throw unprocessable('unprocessable', `device ${deviceId} has no TMK to carry an initial key`);
    return { ref: { keyId: t.id, deviceId, usage: 'TMK' as const, version: t.version }, sealed: t.sealed };
  }

  // Every succeeded keys.install is read back here, so a rotation of 10,000 terminals asked
  // 10,000 times which of a terminal's DUKPT keys are flagged low (half a millisecond of the
  // database thread each, most answering none): the answers of a few milliseconds share one query.
  const flaggedOf = createBatcher(
    async (deviceIds: string[]): Promise<string[][]> => {
      const rows = await db
        .select({ deviceId: dukptKeys.deviceId, keyId: dukptKeys.keyId })
        .from(dukptKeys)
        .where(and(inArray(dukptKeys.deviceId, [...new Set(deviceIds)]), eq(dukptKeys.counterLow, true)));
      const byDevice = new Map<string, string[]>();
      for (const r of rows) byDevice.set(r.deviceId, [...(byDevice.get(r.deviceId) ?? []), r.keyId]);
      return deviceIds.map((id) => byDevice.get(id) ?? []);
    },
    { max: FLAGGED_LOOKUP_BATCH, windowMs: 5 },
  );

  return {
    activeBdk,

    /**
     * Adds an initial key from `bdkId` for `slot` to a prepared install (which already carries
     * the new TMK, if any): the key row pending until the terminal's ack, its KSN recorded.
     */
    async addInitialKey(deviceId: string, rotationId: string, bdkId: string, slot: string, base: Prepared): Promise<Prepared> {
      const b = await activeBdk(bdkId);
      const tmk = await tmkOf(deviceId, base.payload.items);
      const n = await allocate(b);
      const ksn = initialKsn(b.scheme, b.keySetId, n);
      const [v] = await db.select({ max: sql<number>`coalesce(max(${keys.version}), 0)::int` }).from(keys).where(and(eq(keys.deviceId, deviceId), eq(keys.slot, slot)));
      const k = { keyId: newKeyId(), deviceId, version: (v?.max ?? 0) + 1, slot };
      const wrapped = vault.wrap({ id: b.id, scheme: b.scheme, sealed: b.sealed, variantSealed: b.variantSealed }, k, ksn, tmk);
      const ksnHex = ksn.toString('hex').toUpperCase();
      await db.transaction(async (tx) => {
        // An initial key still pending in this slot from an earlier install is replaced by this one.
        await tx
          .update(keys)
          .set({ state: 'failed', endedAt: new Date(), endReason: 'superseded by a newer install', error: { code: 'replaced', message: 'a newer install was sent' } })
          .where(and(eq(keys.deviceId, deviceId), eq(keys.slot, slot), eq(keys.state, 'pending')));
        await tx.insert(keys).values({ id: k.keyId, deviceId, usage: 'IK', slot, version: k.version, state: 'pending', kcv: wrapped.kcv, sealed: null, masterGen: b.masterGen, parentKeyId: null, rotationId });
        await tx.insert(dukptKeys).values({ keyId: k.keyId, deviceId, slot, bdkId: b.id, scheme: b.scheme, initialKsn: ksnHex });
      });
      const item: KeyInstallItem = {
        slot,
        usage: 'IK',
        keyId: k.keyId,
        version: k.version,
        kcv: wrapped.kcv,
        format: 'tr31',
        block: wrapped.block,
        dukpt: { scheme: b.scheme, ksn: ksnHex, bdkKcv: b.kcv },
      };
      const expected: Expected[] = [...base.expected, { keyId: k.keyId, kcv: wrapped.kcv }];
      return { payload: { ...base.payload, items: [...base.payload.items, item] }, expected };
    },

    /** A succeeded keys.install's answer: the round-trip check and the counters it reports. */
    async observe(deviceId: string, result: unknown): Promise<void> {
      const parsed = keysInstallResult.safeParse(result);
      if (!parsed.success) return;
      const r = parsed.data;
      if (r.dukptCheck) await verify(deviceId, r.dukptCheck);
      const reported = r.inventory.filter((e) => e.usage === 'IK' && e.dukpt);
      const flagged = await flaggedOf(deviceId);
      if (!reported.length && !flagged.length) return;
      const now = new Date();
      const low: string[] = [];
      for (const e of reported) {
        const d = e.dukpt;
        if (!d) continue;
        const isLow = isCounterLow(d.scheme, d.countersLeft);
        if (isLow) low.push(`${e.slot} (${d.countersLeft} left)`);
        await db.update(dukptKeys).set({ ksn: d.ksn, counter: d.counter, countersLeft: d.countersLeft, reportedAt: now, counterLow: isLow }).where(and(eq(dukptKeys.keyId, e.keyId), eq(dukptKeys.deviceId, deviceId)));
      }
      // Keys the terminal no longer holds (a new initial key replaced them) are low no more.
      const held = reported.map((e) => e.keyId);
      const gone = flagged.filter((id) => !held.includes(id));
      if (gone.length) await db.update(dukptKeys).set({ counterLow: false }).where(inArray(dukptKeys.keyId, gone));
      const open = low.length > 0;
      deps.bus.emit('device.alert', {
        deviceId,
        code: COUNTER_LOW_ALERT,
        severity: 'major',
        summary: open ? `DUKPT transaction counters near exhaustion: ${low.join(', ')}` : 'DUKPT transaction counters fine again',
        open,
        data: {},
      });
    },

    /** The terminal's DUKPT slots as recorded: KSNs, KCVs, counters — never a key. */
    async ofDevice(deviceId: string) {
      const rows = await db
        .select({ d: dukptKeys, k: { state: keys.state, version: keys.version, kcv: keys.kcv, installedAt: keys.installedAt, rotationId: keys.rotationId }, bdkName: bdks.name, bdkKcv: bdks.kcv })
        .from(dukptKeys)
        .innerJoin(keys, eq(keys.id, dukptKeys.keyId))
        .innerJoin(bdks, eq(bdks.id, dukptKeys.bdkId))
        .where(eq(dukptKeys.deviceId, deviceId))
        .orderBy(dukptKeys.slot, desc(keys.version));
      return rows.map(({ d, k, bdkName, bdkKcv }) => ({
        keyId: d.keyId,
        slot: d.slot,
        scheme: d.scheme,
        state: k.state,
        version: k.version,
        kcv: k.kcv,
        bdk: { id: d.bdkId, name: bdkName, kcv: bdkKcv },
        initialKsn: d.initialKsn,
        ksn: d.ksn,
        counter: d.counter,
        countersLeft: d.countersLeft,
        reportedAt: d.reportedAt,
        counterLow: d.counterLow,
        verifiedAt: d.verifiedAt,
        verifyError: d.verifyError,
        rotationId: k.rotationId,
        createdAt: d.createdAt,
        installedAt: k.installedAt,
      }));
    },
  };

  async function verify(deviceId: string, check: DukptCheck): Promise<void> {
    const initial = initialOf(check.ksn);
    const [row] = await db
      .select({ d: dukptKeys, version: keys.version, b: bdks })
      .from(dukptKeys)
      .innerJoin(keys, eq(keys.id, dukptKeys.keyId))
      .innerJoin(bdks, eq(bdks.id, dukptKeys.bdkId))
      .where(and(eq(dukptKeys.deviceId, deviceId), eq(dukptKeys.slot, check.slot), eq(dukptKeys.initialKsn, initial)))
      .limit(1);
    let error: ErrorInfo | null = null;
    if (!row) error = { code: 'unknown_ksn', message: `no initial key of this terminal in ${check.slot} has KSN ${initial}` };
    else if (!row.b.sealed) error = { code: 'bdk_retired', message: `BDK ${row.b.name} is retired` };
    else {
      const ksn = Buffer.from(check.ksn, 'hex');
      const counterOk = row.d.scheme === 'tdes' ? ksn.length === 10 && isValidTdesCounter(counterOf(ksn)) : ksn.length === 12 && isValidCounter(ksn.readUInt32BE(8));
      const pinBlock = Buffer.from(check.pinBlock, 'hex');
      if (!counterOk) error = { code: 'bad_ksn', message: `KSN ${check.ksn} has no valid transaction counter` };
      else if (pinBlock.length !== (row.d.scheme === 'tdes' ? 8 : 16)) error = { code: 'bad_pin_block', message: 'the check PIN block has the wrong length for the scheme' };
      else {
        try {
          const pin = vault.checkPin({ id: row.b.id, scheme: row.b.scheme, sealed: row.b.sealed, variantSealed: row.b.variantSealed }, { keyId: row.d.keyId, deviceId, version: row.version, slot: row.d.slot }, ksn, pinBlock);
          if (!isCheckPin(pin)) error = { code: 'pin_mismatch', message: 'the check PIN block deciphers to another PIN' };
        } catch (err) {
          error = { code: 'pin_mismatch', message: `the check PIN block does not decipher under the BDK's key for this KSN: ${err instanceof Error ? err.message : String(err)}` };
        }
      }
    }
    if (row) await db.update(dukptKeys).set(error ? { verifyError: error, verifiedAt: null } : { verifiedAt: new Date(), verifyError: null }).where(eq(dukptKeys.keyId, row.d.keyId));
    deps.timeline.add({
      deviceId,
      kind: 'security',
      summary: error ? `keys.dukpt_check_failed: ${error.code}` : `keys.dukpt_verified: ${check.slot} at KSN ${check.ksn}`,
      data: { event: error ? 'keys.dukpt_check_failed' : 'keys.dukpt_verified', slot: check.slot, ksn: check.ksn, ...(row ? { keyId: row.d.keyId } : {}), ...(error ? { error } : {}) },
    });
    if (error) deps.log.warn({ deviceId, slot: check.slot, code: error.code }, 'DUKPT round-trip check failed');
  }
}

export type DukptService = ReturnType<typeof createDukptService>;
