// Key management (SPEC §5), plugged in through server/modules.ts: the vault, key rotations as a
// campaign kind, the inventory, rotation policies, dual control, tamper.
import { and, eq, inArray } from 'drizzle-orm';
import type { Queue } from 'bullmq';
import type { KeyUsage } from '../../schemas/keyCrypto/header.ts';
import { ROOT_ORG_ID, ROOT_ORG_PATH } from '../../schemas/db.ts';
import { compromisedDevices, keyPolicies, keys, type KeyApprovalRow } from '../../schemas/tables/keys.ts';
import { registerCampaignRoutes } from '../campaigns/campaignRoutes.ts';
import { createInvalidations, onModuleInvalidated } from '../cluster/invalidation.ts';
import { upsertSchedulerOnce } from '../cluster/schedulers.ts';
import type { CommandUpdate } from '../campaigns/campaignKind.ts';
import { idempotency } from '../http/idempotency.ts';
import type { Principal } from '../http/types.ts';
import type { ModuleContext, ServerModule } from '../moduleContract.ts';
import { createDualControl, type DualControl } from './dualControl.ts';
import { createKeyRotationKind, KEYS_KIND, keyRotationParams } from './keyRotationKind.ts';
import { bulkRevokeParams, registerKeyRoutes } from './keyRoutes.ts';
import { createKeyService, type KeyService } from './keyService.ts';
import type { KeyVault } from './keyVault.ts';
import { createMasterKeyImport } from './masterKeyImport.ts';
import { replaceMasterKey } from './masterKeyReplacement.ts';
import { devicesDue, POLICY_QUEUE, POLICY_SCHEDULER } from './rotationPolicy.ts';
import { forwardingCustody, openCustody, type OpenedCustody } from './custody/openCustody.ts';
import { createBdkCeremony } from './dukpt/bdkCeremony.ts';
import { resealBdks } from './dukpt/bdkReseal.ts';
import { registerDukptRoutes } from './dukpt/dukptRoutes.ts';
import { createDukptService, type DukptService } from './dukpt/dukptService.ts';
import { createKeyVault } from './vaultOperations.ts';
import { createTamperHandler } from './tamper.ts';
import type { MasterGenerations } from './vaultMasters.ts';

const SYSTEM: Principal = { userId: 'system', name: 'key-rotation-policy', role: 'admin', orgId: ROOT_ORG_ID, orgPath: ROOT_ORG_PATH };
const CHUNK = 1000;
const EXPIRE_EVERY_MS = 60_000;

/** Parts tests reach into. */
export interface KeysInternals {
  vault: KeyVault;
  keyService: KeyService;
  dukpt: DukptService;
  dual: DualControl;
  runPolicies(nowMs?: number): Promise<string[]>;
  compromised: ReadonlySet<string>;
  /** Resolves once every ack received so far is in the inventory. */
  settling(): Promise<unknown>;
  /** Resolves once tamper handling in flight is done. */
  tamperIdle(): Promise<unknown>;
}

export function createKeysModule(ctx: ModuleContext): ServerModule & { internals: KeysInternals } {
  // KEY_VAULT picks the custody at start; the vault is built now over one that forwards to it.
  let opened: OpenedCustody | undefined;
  function openedOrThrow(): OpenedCustody {
    if (!opened) throw new Error('key vault not open yet');
    return opened;
  }
  const must = (): MasterGenerations => openedOrThrow().masters;
  const custody = forwardingCustody(() => openedOrThrow().custody);
  const vault = createKeyVault(custody);
  const keyService = createKeyService({ db: ctx.db, vault, timeline: ctx.timeline, log: ctx.log });
  const dukpt = createDukptService({ db: ctx.db, custody: () => custody, timeline: ctx.timeline, bus: ctx.bus, log: ctx.log });
  const bdkCeremony = createBdkCeremony({ db: ctx.db, custody: () => custody });
  // Read by the rotation kind on whichever instance leads a rotation: marks and clears made
  // through another instance are announced, and each peer re-reads those devices' marks.
  const compromised = new Set<string>();
  const announce = createInvalidations(ctx.cluster.link);
  const compromiseChanged = (deviceId: string) => announce.module('keys', [deviceId]);
  const tamper = createTamperHandler({ db: ctx.db, keys: keyService, locks: ctx.terminalControl.locks, commands: ctx.commands, bus: ctx.bus, timeline: ctx.timeline, audit: ctx.audit, log: ctx.log, compromised, markedCompromised: compromiseChanged });
  const engine = ctx.campaigns;
  const settling = new Set<Promise<unknown>>();

  function settle(deviceId: string, rotationId: string, u: CommandUpdate): Promise<unknown> {
    const p = keyService
      .settle(deviceId, rotationId, u)
      .catch((err: unknown) => ctx.log.error({ err, deviceId, rotationId }, 'settling a key install failed'))
      .finally(() => settling.delete(p));
    settling.add(p);
    return p;
  }

  const settled = () => Promise.all([...settling]);
  engine.register(createKeyRotationKind({ db: ctx.db, keys: keyService, dukpt, log: ctx.log, isCompromised: (id) => compromised.has(id), settle, settled }));

  async function zeroizeSlots(byDevice: Map<string, Set<string>>, reason: string) {
    // Devices with the same slots share one batch.
    const groups = new Map<string, string[]>();
    for (const [deviceId, slots] of byDevice) {
      const sig = [...slots].sort().join(',');
      groups.set(sig, [...(groups.get(sig) ?? []), deviceId]);
    }
    const ids: string[] = [];
    for (const [sig, deviceIds] of groups) {
      const b = await ctx.commands.createBatch(deviceIds, { type: 'keys.zeroize', payload: { slots: sig.split(','), reason }, createdBy: null });
      ids.push(b.batchId);
    }
    return ids;
  }

  async function bulkRevoke(row: KeyApprovalRow, progress: (p: Record<string, unknown>) => Promise<void>) {
    const params = bulkRevokeParams.parse(row.params);
    let revoked = 0;
    const byDevice = new Map<string, Set<string>>();
    for (let i = 0; i < params.deviceIds.length; i += CHUNK) {
      const chunk = params.deviceIds.slice(i, i + CHUNK);
      const live = await ctx.db
        .select({ id: keys.id })
        .from(keys)
        .where(and(inArray(keys.deviceId, chunk), inArray(keys.state, ['installed', 'pending']), params.usages ? inArray(keys.usage, params.usages) : undefined));
      const gone = await keyService.revoke(live.map((l) => l.id), `bulk revocation ${row.id}`);
      for (const k of gone) byDevice.set(k.deviceId, (byDevice.get(k.deviceId) ?? new Set()).add(k.slot));
      revoked += gone.length;
      await progress({ devicesDone: Math.min(i + CHUNK, params.deviceIds.length), revoked });
    }
    const batches = await zeroizeSlots(byDevice, `bulk revocation ${row.id}`);
    return { revoked, devices: byDevice.size, zeroizeBatches: batches };
  }

  // BDKs are resealed under the new generation as soon as a replacement begins (bdkReseal.ts).
  const withBdks = (begin: () => Promise<number>) => async () => {
    const gen = await begin();
    await resealBdks(ctx.db, custody, gen);
    return gen;
  };
  const masterImport = createMasterKeyImport({ masters: must });
  const dual = createDualControl({
    db: ctx.db,
    audit: ctx.audit,
    log: ctx.log,
    executors: {
      'master_key.replace': (_row, progress) => replaceMasterKey({ db: ctx.db, vault, masters: must(), progress, begin: withBdks(() => must().beginReplacement()) }),
      // The imported key already waits as the next generation (written when the approval was accepted).
      'master_key.import': (row, progress) => replaceMasterKey({ db: ctx.db, vault, masters: must(), progress, begin: withBdks(async () => masterImport.generationOf(row)) }),
      'keys.bulk_revoke': bulkRevoke,
      'bdk.import': (row) => bdkCeremony.finish(row),
      'bdk.generate': (row) => bdkCeremony.finish(row),
    },
    hooks: { 'master_key.import': masterImport.hooks, ...bdkCeremony.hooks },
  });

  async function runPolicies(nowMs = Date.now()) {
    const created: string[] = [];
    for (const p of await ctx.db.select().from(keyPolicies)) {
      const due = await devicesDue(ctx.db, p.usage as KeyUsage, p.maxAgeDays, nowMs, (ids) => engine.busyDevices(KEYS_KIND, ids));
      if (!due.length) continue;
      const spec = { target: { deviceIds: due }, phases: [{ name: 'canary', percent: 10 }, { name: 'rest', percent: 90 }], successThreshold: 90, errorThreshold: 10, onErrorThreshold: 'pause' };
      // The entry commits with the draft; starting it is the engine's, after the commit.
      const c = await engine.create(KEYS_KIND, { name: `policy: ${p.usage} older than ${p.maxAgeDays} d`, spec, params: { usages: [p.usage] } }, SYSTEM, (tx, row) =>
        ctx.audit.append({ actor: null, action: 'keyRotation.policy', target: row.id, data: { usage: p.usage, maxAgeDays: p.maxAgeDays, devices: due.length } }, tx),
      );
      await engine.startCampaign(KEYS_KIND, c.id);
      created.push(c.id);
    }
    return created;
  }

  let policyQueue: Queue | undefined;
  let offBus: (() => void) | undefined;
  let offInvalidate: (() => void) | undefined;
  let expiryTimer: ReturnType<typeof setInterval> | undefined;
  const internals: KeysInternals = { vault, keyService, dukpt, dual, runPolicies, compromised, settling: settled, tamperIdle: () => tamper.idle() };

  return {
    name: 'keys',
    internals,
    async start() {
      opened = await openCustody({ config: ctx.config, db: ctx.db, dataDir: ctx.dataDir, log: ctx.log });
      for (const r of await ctx.db.select({ id: compromisedDevices.deviceId }).from(compromisedDevices)) compromised.add(r.id);
      offInvalidate = onModuleInvalidated(
        ctx.cluster.link,
        'keys',
        async (ids) => {
          if (!ids?.length) return;
          const marked = new Set((await ctx.db.select({ id: compromisedDevices.deviceId }).from(compromisedDevices).where(inArray(compromisedDevices.deviceId, ids))).map((r) => r.id));
          for (const id of ids) {
            if (marked.has(id)) compromised.add(id);
            else compromised.delete(id);
          }
        },
        ctx.log,
      );
      // Installs that ended without an answer (expired, cancelled) release their pending keys.
      offBus = ctx.bus.on('command.updated', (e) => {
        if (e.type === 'keys.install' && e.state === 'succeeded') {
          // Every inventory a terminal answers with (rotations and reports): DUKPT counters and checks.
          const seen: Promise<unknown> = dukpt
            .observe(e.deviceId, e.result)
            .catch((err: unknown) => ctx.log.error({ err, deviceId: e.deviceId }, 'reading a DUKPT answer failed'))
            .finally(() => settling.delete(seen));
          settling.add(seen);
          return;
        }
        if (e.type !== 'keys.install' || (e.state !== 'expired' && e.state !== 'cancelled')) return;
        const state = e.state;
        // Held in `settling` from the lookup on: a rotation cancelled meanwhile reads as cancelled
        // only once these keys are released (the engine waits for `settled` before it says so).
        const release: Promise<unknown> = engine
          .campaignOfCommand(e.id, e.deviceId)
          .then((campaignId) => campaignId && settle(e.deviceId, campaignId, { commandId: e.id, state, stage: null, progress: null, error: e.error, result: null }))
          .catch(() => undefined)
          .finally(() => settling.delete(release));
        settling.add(release);
      });
      policyQueue = ctx.queues.queue(POLICY_QUEUE);
      ctx.queues.worker(POLICY_QUEUE, async () => ({ created: await runPolicies() }), { concurrency: 1 });
      await upsertSchedulerOnce(ctx.cluster, policyQueue, POLICY_SCHEDULER, { every: Number(process.env.KEY_POLICY_EVERY_MS ?? 3_600_000) }, { name: 'check-key-ages' });
      await dual.resume();
      // Pending requests past their time lose their sealed secret even if nobody looks at them.
      expiryTimer = setInterval(() => void dual.expire().catch((err: unknown) => ctx.log.warn({ err }, 'expiring dual-control requests failed')), EXPIRE_EVERY_MS);
      expiryTimer.unref();
    },
    async stop() {
      clearInterval(expiryTimer);
      offBus?.();
      offInvalidate?.();
      await Promise.all([...settling]);
      await dual.idle();
      await tamper.idle();
      opened?.close();
      opened = undefined;
    },
    onEvent(deviceId, event) {
      if (event.type === 'tamper' && !compromised.has(deviceId)) void tamper.markCompromised(deviceId, 'tamper event');
    },
    onHealth(deviceId, sample) {
      if (sample.tamper === true && !compromised.has(deviceId)) void tamper.markCompromised(deviceId, 'tamper switch in health');
    },
    routes(app) {
      registerKeyRoutes(app, {
        db: ctx.db,
        keys: keyService,
        vault,
        dual,
        masterImport,
        bdkCeremony,
        devices: ctx.devices,
        audit: ctx.audit,
        vaultState: () => ({ replacing: must().replacing(), masterKeyFrom: must().from, masterKcv: must().generations().active.kcv }),
        async report(deviceId, by, inTx) {
          const sent = (cmd: { id: string }) => ({ commandId: cmd.id });
          const cmd = await ctx.commands.create(deviceId, { type: 'keys.install', payload: { items: [] }, createdBy: by }, inTx && ((tx, row) => inTx(tx, sent(row))));
          return sent(cmd);
        },
        async revokeOnDevice(deviceId, keyIds, reason, actor) {
          const gone = await ctx.db.transaction(async (tx) => {
            const live = await tx
              .select({ id: keys.id })
              .from(keys)
              .where(and(eq(keys.deviceId, deviceId), inArray(keys.state, ['installed', 'pending']), keyIds ? inArray(keys.id, keyIds) : undefined));
            const ended = await keyService.revoke(live.map((l) => l.id), reason, tx);
            await ctx.audit.append({ actor: actor.principal, action: 'keys.revoke', target: deviceId, ip: actor.ip, data: { revoked: ended.length, reason } }, tx);
            return ended;
          });
          if (!gone.length) return { revoked: 0, commandId: null };
          const cmd = await ctx.commands.create(deviceId, { type: 'keys.zeroize', payload: { slots: [...new Set(gone.map((g) => g.slot))].sort(), reason: reason.slice(0, 200) }, createdBy: null });
          return { revoked: gone.length, commandId: cmd.id };
        },
        markCompromised: (id, reason, actor) => tamper.markByAdmin(id, reason, actor),
        async clearCompromised(deviceId, actor) {
          const gone = await ctx.db.transaction(async (tx) => {
            const rows = await tx.delete(compromisedDevices).where(eq(compromisedDevices.deviceId, deviceId)).returning();
            await ctx.audit.append({ actor: actor.principal, action: 'device.clear_compromised', target: deviceId, ip: actor.ip, data: { cleared: rows.length > 0 } }, tx);
            return rows;
          });
          compromised.delete(deviceId);
          if (gone.length) compromiseChanged(deviceId);
          return gone.length > 0;
        },
      });
      registerDukptRoutes(app, { db: ctx.db, dukpt, devices: ctx.devices });
      registerCampaignRoutes(app, {
        engine,
        audit: ctx.audit,
        idempotency: idempotency(ctx.db, { log: ctx.log }),
        kind: KEYS_KIND,
        basePath: '/v1/key-rotations',
        noun: 'keyRotation',
        paramsShape: keyRotationParams.shape,
        example: {
          name: 'working keys, Q4',
          usages: ['TPK', 'TAK'],
          target: { filter: { model: 'PAX-A920' } },
          phases: [
            { name: 'canary', percent: 5 },
            { name: 'rest', percent: 95 },
          ],
          successThreshold: 98,
          errorThreshold: 1,
        },
      });
    },
  };
}
