// Which instance of a cluster runs each campaign: the one holding its lease (a PostgreSQL session
// lock, server/cluster/leases.ts). A running or paused campaign is loaded into memory only after
// its lease is taken, so two instances never tick, send or judge answers for one campaign. Every
// CLAIM_EVERY_MS each instance looks for running and paused campaigns nobody leads (a leader that
// stopped or died: its session ended, its locks with it) and loads those it wins from the
// database, the restart path (campaignLoader.ts reconcile). Like hawkBit's lock per rollout run.
import type { Leases } from '../cluster/leases.ts';
import type { Logger } from '../log.ts';
import type { CampaignLoader } from './campaignLoader.ts';
import type { CampaignStore } from './campaignStore.ts';
import type { MemberRecords } from './memberRecords.ts';
import type { CampaignMemory } from './runningCampaign.ts';

const CLAIM_EVERY_MS = 1_000;
/** A campaign that could not be loaded (its artifact gone...) is tried again after this. */
const FAILED_LOAD_PAUSE_MS = 30_000;
/** Past the command write-behind (200 ms) of whichever instance holds the terminals, with room. */
const CATCH_UP_AFTER_MS = 2_000;

export const campaignLease = (id: string) => `campaign:${id}`;

export interface CampaignLeadershipDeps extends CampaignMemory {
  leases: Leases;
  store: CampaignStore;
  loader: CampaignLoader;
  records: MemberRecords;
  log: Logger;
  kick(): void;
  claimEveryMs?: number;
}

export type Led<T> = { here: true; value: T } | { here: false; leader: string | null };

export function createCampaignLeadership(deps: CampaignLeadershipDeps) {
  const { leases, log } = deps;
  /** Campaigns whose lease this instance took (loaded, or being acted on). */
  const led = new Set<string>();
  /** Leases in use by an action under way: not released even if the campaign is not in memory (yet). */
  const pins = new Map<string, number>();
  const failedUntil = new Map<string, number>();
  let timer: NodeJS.Timeout | undefined;
  let passing: Promise<void> | undefined;
  let stopped = false;

  const pin = (id: string) => pins.set(id, (pins.get(id) ?? 0) + 1);
  const unpin = (id: string) => {
    const n = (pins.get(id) ?? 1) - 1;
    if (n > 0) pins.set(id, n);
    else pins.delete(id);
  };

  async function take(id: string): Promise<boolean> {
    if (!(await leases.take(campaignLease(id)))) return false;
    led.add(id);
    return true;
  }

  /** With the lease held: a running or paused campaign not in memory is loaded as after a restart. */
  async function loadIfActive(id: string) {
    if (deps.running.has(id)) return;
    const row = await deps.store.campaign(id);
    if (!row || (row.state !== 'running' && row.state !== 'paused')) return;
    const c = await deps.loader.load(row);
    await deps.loader.reconcile(c);
    log.info({ campaign: id, state: row.state }, 'leading a campaign taken over from the database');
    deps.kick();
    // An answer the old leader missed, or that crossed the load, is in its command's row once the
    // holder's write-behind has run: read the rows in flight once more after it.
    const later = setTimeout(() => {
      if (deps.running.get(id) !== c) return;
      deps.loader.catchUp(c).catch((err: unknown) => log.warn({ err, campaign: id }, 'catching up on a taken-over campaign failed'));
    }, CATCH_UP_AFTER_MS);
    later.unref();
  }

  async function claim(id: string) {
    pin(id);
    try {
      if (await take(id)) await loadIfActive(id);
    } catch (err) {
      failedUntil.set(id, Date.now() + FAILED_LOAD_PAUSE_MS);
      log.error({ err, campaign: id }, 'could not take over a campaign');
    } finally {
      unpin(id);
    }
  }

  async function pass() {
    await leases.check();
    // Finished (or never loaded): the lease goes back, so nothing stays locked for nothing.
    for (const id of [...led]) {
      if (deps.running.has(id) || pins.has(id)) continue;
      led.delete(id);
      await leases.release(campaignLease(id));
    }
    const now = Date.now();
    for (const row of await deps.store.campaignsIn(['running', 'paused'])) {
      if (stopped) return;
      if (deps.running.has(row.id) || pins.has(row.id) || (failedUntil.get(row.id) ?? 0) > now) continue;
      await claim(row.id);
    }
  }

  function passSoon() {
    if (passing || stopped) return;
    passing = pass()
      .catch((err: unknown) => log.warn({ err }, 'campaign claim pass failed'))
      .finally(() => (passing = undefined));
  }

  // The session is gone: another instance may take these campaigns now, so this one lets go of
  // them at once (a send under way is unclaimed, memberSends.ts) and writes what it had.
  leases.onLost(() => {
    const ids = [...led];
    led.clear();
    for (const id of ids) deps.running.delete(id);
    for (const [cmd, r] of deps.byCommand) if (ids.includes(r.campaignId)) deps.byCommand.delete(cmd);
    void deps.records.flush().catch(() => undefined);
    if (ids.length) log.error({ campaigns: ids }, 'campaign leases lost: these campaigns are left to the instance that takes them');
  });

  return {
    async start() {
      await pass();
      timer = setInterval(passSoon, deps.claimEveryMs ?? CLAIM_EVERY_MS);
    },
    /** No claim after it; the one under way has ended. */
    async stopClaims() {
      stopped = true;
      clearInterval(timer);
      await passing;
    },

    /**
     * Runs `fn` as the campaign's leader: at once when it is in memory here, else after taking
     * its lease (loading it if it runs). When another instance holds the lease, says which.
     */
    async lead<T>(id: string, fn: () => Promise<T>): Promise<Led<T>> {
      if (deps.running.has(id)) return { here: true, value: await fn() };
      pin(id);
      try {
        if (await take(id)) {
          await loadIfActive(id);
          return { here: true, value: await fn() };
        }
      } finally {
        unpin(id);
      }
      return { here: false, leader: await leases.holder(campaignLease(id)) };
    },
  };
}

export type CampaignLeadership = ReturnType<typeof createCampaignLeadership>;
