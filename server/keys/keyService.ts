// Keys of devices: planning and preparing installs (vault → key blocks), settling acks into the
// inventory, revocation. Only sealed tokens, KCVs and ids are handled here; blocks exist only in
// command payloads, which only the target device can open.
import { and, eq, inArray, isNotNull, sql } from 'drizzle-orm';
import type { KeyBlockHeader, KeyUsage } from '../../schemas/keyCrypto/header.ts';
import type { KeyInstallItem, KeysInstallPayload } from '../../schemas/keys.ts';
import { keys, type KeyRow } from '../../schemas/tables/keys.ts';
import type { AckResult, ErrorInfo } from '../../schemas/wire.ts';
import type { Tx } from '../core/transaction.ts';
import type { Db } from '../db/database.ts';
import type { TimelineWriter } from '../devices/timelineWriter.ts';
import { unprocessable } from '../errors.ts';
import type { Logger } from '../log.ts';
import { readInstallAck, type Expected } from './ackCheck.ts';
import { planInstall, type CurrentKey, type PlannedKey } from './installPlan.ts';
import { createBatcher } from '../db/batcher.ts';
import { newKeyId } from './keyIds.ts';
import { createKeyStore, type InstalledKeys, type LiveKey, type NewKey, type PendingKey } from './keyStore.ts';
import type { KeyRef, KeyVault, SealedKey, WireBlock } from './keyVault.ts';

const liveStates = ['installed', 'pending'] as const;
/** Devices prepared together: the engine sends a key rotation's members 512 at a time (keyRotationKind.ts). */
const PREPARE_BATCH = 512;
/** Devices whose keys are made between two turns of the event loop: the vault's work is synchronous. */
const VAULT_SLICE = 128;
const ref = (k: Pick<KeyRow, 'id' | 'deviceId' | 'usage' | 'version'>): KeyRef => ({ keyId: k.id, deviceId: k.deviceId, usage: k.usage, version: k.version });

/** What the API shows of a key: never `sealed`. */
export const keyView = (k: KeyRow) => ({
  id: k.id,
  deviceId: k.deviceId,
  usage: k.usage,
  slot: k.slot,
  version: k.version,
  state: k.state,
  kcv: k.kcv,
  parentKeyId: k.parentKeyId,
  rotationId: k.rotationId,
  error: k.error,
  createdAt: k.createdAt,
  installedAt: k.installedAt,
  endedAt: k.endedAt,
  endReason: k.endReason,
});

export interface Prepared {
  payload: KeysInstallPayload;
  expected: Expected[];
}

export interface SettleOutcome {
  ok: boolean;
  code?: string;
  message?: string;
}

export function createKeyService(deps: { db: Db; vault: KeyVault; timeline: TimelineWriter; log: Logger }) {
  const { db, vault } = deps;
  const store = createKeyStore(db);

  interface PrepareInput {
    deviceId: string;
    usages: readonly KeyUsage[];
    rotationId: string;
  }

  /** Many devices at once: three reads and one insert for the whole batch. */
  async function prepareMany(inputs: PrepareInput[]): Promise<Array<Prepared | Error>> {
    const ids = [...new Set(inputs.map((i) => i.deviceId))];
    const devs = new Map((await store.devices(ids)).map((d) => [d.id, d]));
    const live = await store.live(ids);
    const versions = await store.maxVersions(ids);
    const liveBy = new Map<string, LiveKey[]>();
    for (const r of live) liveBy.set(r.deviceId, [...(liveBy.get(r.deviceId) ?? []), r]);
    const versionsBy = new Map<string, Map<string, number>>();
    for (const v of versions) versionsBy.set(v.deviceId, (versionsBy.get(v.deviceId) ?? new Map()).set(v.slot, v.max));
    // Installs still pending from an earlier rotation are superseded by this one.
    await endKeys(live.filter((r) => r.state === 'pending').map((r) => r.id), 'failed', 'superseded by a newer install', { code: 'replaced', message: 'a newer install was sent' });
    const fresh: NewKey[] = [];
    const now = new Date();
    const out: Array<Prepared | Error> = [];
    for (const input of inputs) {
      // The broker shares this thread: a batch's keys are made a slice at a time.
      if (out.length % VAULT_SLICE === VAULT_SLICE - 1) await new Promise<void>((resolve) => setImmediate(resolve));
      try {
        const device = devs.get(input.deviceId);
        if (!device) throw unprocessable('unknown_device', `device ${input.deviceId} does not exist`);
        if (device.status !== 'enrolled' || !device.kek) throw unprocessable('device_not_enrolled', `device ${input.deviceId} has no KEK (not enrolled)`);
        const installed = (liveBy.get(input.deviceId) ?? []).filter((r) => r.state === 'installed');
        const r = planOne(input, Buffer.from(device.kek, 'base64'), installed, versionsBy.get(input.deviceId) ?? new Map(), now);
        fresh.push(...r.fresh);
        out.push(r.prepared);
      } catch (err) {
        out.push(err as Error);
      }
    }
    await store.insertPending(fresh);
    return out;
  }

  /** One device's install: one vault operation for its TMK (when new) and one for every key under it. */
  function planOne(input: PrepareInput, kek: Buffer, installed: LiveKey[], maxVersion: Map<string, number>, now: Date): { prepared: Prepared; fresh: NewKey[] } {
    const { deviceId, rotationId } = input;
    const plan = planInstall(input.usages, installed as CurrentKey[], maxVersion);
    const fresh: NewKey[] = [];
    const items: KeyInstallItem[] = [];
    const header = (k: KeyRef & { slot: string }, wk: string): KeyBlockHeader => ({ usage: k.usage, alg: 'AES256', ver: k.version, kid: k.keyId, dev: deviceId, slot: k.slot, wk });
    const item = (k: Pick<LiveKey, 'id' | 'usage' | 'slot' | 'version' | 'kcv'>, block: WireBlock): KeyInstallItem => ({ slot: k.slot, usage: k.usage, keyId: k.id, version: k.version, kcv: k.kcv, ...block });
    const newKey = (r: KeyRef & { slot: string }, sealed: SealedKey, parent: string | null): NewKey => ({
      id: r.keyId, deviceId, usage: r.usage, slot: r.slot, version: r.version, kcv: sealed.kcv, sealed: sealed.sealed, masterGen: sealed.masterGen, parentKeyId: parent, rotationId, createdAt: now,
    });
    const refOf = (p: PlannedKey) => ({ keyId: newKeyId(), deviceId, usage: p.usage, version: p.version, slot: p.slot });
    const tmkPlan = plan.find((p) => p.usage === 'TMK');
    let tmk: { ref: KeyRef; sealed: string } | undefined;
    if (tmkPlan) {
      const r = refOf(tmkPlan);
      const made = vault.generateTmk(r, header(r, 'KEK'), kek);
      const row = newKey(r, made, null);
      fresh.push(row);
      items.push(item(row, { format: 'pfk1', block: made.block.toString('base64') }));
      tmk = { ref: r, sealed: made.sealed };
    } else {
      // planInstall plans a new TMK whenever the device has none installed.
      const t = installed.find((k) => k.usage === 'TMK')!;
      tmk = { ref: ref(t), sealed: t.sealed! };
    }
    const t = tmk;
    const work = plan
      .filter((p) => p.usage !== 'TMK')
      .map((p): { generate: KeyRef & { slot: string } } | { resend: LiveKey } => (p.action === 'generate' ? { generate: refOf(p) } : { resend: installed.find((i) => i.id === p.keyId)! }));
    const blocks = vault.underTmk(
      t,
      work.map((w) => ('generate' in w ? { header: header(w.generate, t.ref.keyId), generate: w.generate } : { header: header({ ...ref(w.resend), slot: w.resend.slot }, t.ref.keyId), key: { ref: ref(w.resend), sealed: w.resend.sealed! } })),
    );
    work.forEach((w, i) => {
      const b = blocks[i]!;
      if ('generate' in w) {
        const row = newKey(w.generate, b.generated!, t.ref.keyId);
        fresh.push(row);
        items.push(item(row, b.block));
      } else items.push(item(w.resend, b.block));
    });
    return { prepared: { payload: { items, rotationId }, expected: items.map((i) => ({ keyId: i.keyId, kcv: i.kcv })) }, fresh };
  }

  // Sends wait a few ms for company: the campaign engine sends up to sendConcurrency at a time.
  const prepareBatched = createBatcher(prepareMany, { max: PREPARE_BATCH, windowMs: 5 });

  /** One device's install: fresh keys in the vault (pending) and the payload that carries them. */
  async function prepare(deviceId: string, usages: readonly KeyUsage[], rotationId: string): Promise<Prepared> {
    const r = await prepareBatched({ deviceId, usages, rotationId });
    if (r instanceof Error) throw r;
    return r;
  }

  async function endKeys(ids: string[], state: 'failed' | 'superseded' | 'revoked', reason: string, error?: ErrorInfo, tx?: Tx) {
    if (!ids.length) return;
    // The key material is destroyed with the key's life: `sealed` goes.
    await (tx ?? db)
      .update(keys)
      .set({ state, sealed: null, endedAt: new Date(), endReason: reason, ...(error ? { error } : {}) })
      .where(inArray(keys.id, ids));
  }

  interface SettleInput {
    deviceId: string;
    rotationId: string;
    update: { commandId: string; state: string; error: ErrorInfo | null; result: AckResult | null };
  }

  /** Final keys.install answers of many devices: one read and one statement for the batch. */
  async function settleMany(inputs: SettleInput[]): Promise<SettleOutcome[]> {
    const pending = await store.pending([...new Set(inputs.map((i) => i.deviceId))], [...new Set(inputs.map((i) => i.rotationId))]);
    const pendingBy = new Map<string, PendingKey[]>();
    for (const p of pending) {
      const k = `${p.deviceId} ${p.rotationId}`;
      pendingBy.set(k, [...(pendingBy.get(k) ?? []), p]);
    }
    const installed: InstalledKeys = { installs: [], reparent: [] };
    const outcomes: SettleOutcome[] = [];
    for (const i of inputs) {
      const mine = pendingBy.get(`${i.deviceId} ${i.rotationId}`) ?? [];
      if (i.update.state !== 'succeeded') {
        const error = i.update.error ?? { code: i.update.state, message: `command ${i.update.state}` };
        await endKeys(mine.map((p) => p.id), 'failed', `install ${i.update.state}`, error);
        outcomes.push({ ok: false, code: error.code, message: error.message });
        continue;
      }
      const reading = readInstallAck(i.update.result, mine.map((p) => ({ keyId: p.id, kcv: p.kcv })));
      if (!reading.ok) {
        await endKeys(mine.map((p) => p.id), 'failed', reading.message, { code: reading.code, message: reading.message });
        deps.timeline.add({ deviceId: i.deviceId, kind: 'security', summary: `key install refused: ${reading.code}`, data: { rotationId: i.rotationId, keyIds: reading.badKeyIds } });
        outcomes.push({ ok: false, code: reading.code, message: reading.message });
        continue;
      }
      for (const p of mine) installed.installs.push({ id: p.id, deviceId: i.deviceId, slot: p.slot, commandId: i.update.commandId });
      const newTmk = mine.find((p) => p.usage === 'TMK');
      if (newTmk) for (const id of reading.kcvs.keys()) if (!mine.some((p) => p.id === id)) installed.reparent.push({ id, tmk: newTmk.id, deviceId: i.deviceId });
      outcomes.push({ ok: true });
    }
    await store.markInstalled(installed, new Date());
    return outcomes;
  }

  // The verdict does not wait for this (the campaign kind judges from the ack itself): batch widely.
  const settleBatched = createBatcher(settleMany, { max: 1000, windowMs: 100 });

  /** A final keys.install update for `rotationId` on `deviceId`. */
  function settle(deviceId: string, rotationId: string, update: SettleInput['update']): Promise<SettleOutcome> {
    return settleBatched({ deviceId, rotationId, update });
  }

  /**
   * Revokes keys; a revoked TMK takes every key under it along. Returns the ids revoked. With
   * `tx`, inside that transaction (so the caller's audit entry commits with it).
   */
  async function revoke(keyIds: string[], reason: string, tx?: Tx): Promise<KeyRow[]> {
    const q = tx ?? db;
    const all: KeyRow[] = [];
    let frontier = keyIds;
    while (frontier.length) {
      const found = await q.select().from(keys).where(and(inArray(keys.id, frontier), inArray(keys.state, [...liveStates])));
      all.push(...found);
      const tmks = found.filter((k) => k.usage === 'TMK').map((k) => k.id);
      frontier = tmks.length
        ? (await q.select({ id: keys.id }).from(keys).where(and(inArray(keys.parentKeyId, tmks), inArray(keys.state, [...liveStates])))).map((r) => r.id).filter((id) => !all.some((a) => a.id === id))
        : [];
    }
    await endKeys(all.map((k) => k.id), 'revoked', reason, undefined, tx);
    return all;
  }

  return {
    prepare,
    settle,
    revoke,
    async revokeDevice(deviceId: string, reason: string, tx?: Tx) {
      const live = await (tx ?? db).select({ id: keys.id }).from(keys).where(and(eq(keys.deviceId, deviceId), inArray(keys.state, [...liveStates])));
      return revoke(live.map((l) => l.id), reason, tx);
    },
    async inventory(deviceId: string) {
      const rows = await db.select().from(keys).where(and(eq(keys.deviceId, deviceId), eq(keys.state, 'installed')));
      return rows.sort((a, b) => a.slot.localeCompare(b.slot)).map((k) => ({ slot: k.slot, usage: k.usage, keyId: k.id, version: k.version, kcv: k.kcv, installedAt: k.installedAt, parentKeyId: k.parentKeyId }));
    },
    async history(deviceId: string) {
      const rows = await db.select().from(keys).where(eq(keys.deviceId, deviceId));
      return rows.sort((a, b) => a.slot.localeCompare(b.slot) || b.version - a.version).map(keyView);
    },
    async sealedKeys(afterId: string, limit: number) {
      return db
        .select({ id: keys.id, deviceId: keys.deviceId, usage: keys.usage, version: keys.version, sealed: keys.sealed, masterGen: keys.masterGen })
        .from(keys)
        .where(and(isNotNull(keys.sealed), sql`${keys.id} > ${afterId}`))
        .orderBy(keys.id)
        .limit(limit);
    },
    ref,
  };
}

export type KeyService = ReturnType<typeof createKeyService>;
