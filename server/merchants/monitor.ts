// Merchant rules on the ingest hot path (synchronous and cheap; anything to write goes to a
// background promise): relocation from location fixes, reported `txn` figures and transactions
// against the policy, cash-out-like bursts, and lock-state drift reported at boot.
import { txnEventData } from '../../schemas/binding.ts';
import type { DeviceEvent, HealthSample } from '../../schemas/wire.ts';
import type { Logger } from '../log.ts';
import type { CardBlacklistService } from './cardBlacklist.ts';
import type { TerminalControl } from '../terminalControl/terminalControl.ts';
import type { MerchantAlerts } from './alerts.ts';
import { SYSTEM } from '../core/actor.ts';
import { assessFix, DEFAULT_MAX_ACCURACY_M } from './geofence.ts';
import { checkDailyFigures, checkTransaction, type Breach } from './limits.ts';
import type { Registry } from './registry.ts';
import type { Relocation } from './relocation.ts';
import { DEFAULT_BURST_RULE, noteTxn, type BurstRule } from './suspicion.ts';

export interface MonitorDeps {
  registry: Registry;
  control: TerminalControl;
  alerts: MerchantAlerts;
  relocation: Relocation;
  cards: CardBlacklistService;
  log: Logger;
  burstRule?: BurstRule;
  maxAccuracyM?: number;
  now?: () => number;
}

export function createMonitor(d: MonitorDeps) {
  const inFlight = new Set<Promise<unknown>>();
  const now = d.now ?? Date.now;
  // Per device, so that two samples in quick succession are handled in order.
  const chains = new Map<string, Promise<void>>();

  function background(deviceId: string, what: string, fn: () => Promise<unknown>) {
    const prev = chains.get(deviceId) ?? Promise.resolve();
    const p = prev
      .then(fn)
      .then(() => undefined)
      .catch((err: unknown) => d.log.error({ err, deviceId, what }, 'merchant rule action failed'));
    chains.set(deviceId, p);
    inFlight.add(p);
    void p.finally(() => {
      inFlight.delete(p);
      if (chains.get(deviceId) === p) chains.delete(deviceId);
    });
  }

  async function breach(deviceId: string, merchantId: string, lockOnBreach: boolean, breaches: Breach[], source: string) {
    const alert = await d.alerts.raiseAlert({
      deviceId,
      merchantId,
      code: 'txn_limit_breach',
      severity: 'major',
      summary: `transaction limits exceeded (${breaches.map((b) => `${b.rule} ${b.actual} > ${b.limit}`).join(', ')})`,
      data: { breaches, source },
    });
    if (lockOnBreach) {
      await d.control.locks.systemLock(deviceId, 'txn_limit', `limits exceeded: ${breaches.map((b) => b.rule).join(', ')}`);
    }
    return alert;
  }

  function onHealth(deviceId: string, sample: HealthSample) {
    if (d.control.blacklist.isBlacklisted(deviceId)) return;
    const m = d.registry.merchantOf(deviceId);
    if (!m) return;
    // Relocation.
    const track = d.registry.track(deviceId);
    const a = assessFix(
      track,
      { lat: m.lat, lon: m.lon, radiusM: m.radiusM },
      sample.location,
      {
        fixesToRelocate: m.policy.relocationFixes,
        maxAccuracyM: d.maxAccuracyM ?? DEFAULT_MAX_ACCURACY_M,
      },
      track.exempt,
    );
    const changed = a.track.consecutiveOut !== track.consecutiveOut || a.track.relocated !== track.relocated;
    if (changed) d.registry.setTrack(deviceId, { ...a.track, exempt: track.exempt });
    if (a.outcome !== 'none' || (changed && a.track.consecutiveOut === 0)) {
      const fields = {
        consecutiveOut: a.track.consecutiveOut,
        relocated: a.track.relocated,
        ...(a.distanceM !== undefined ? { lastDistanceM: Math.round(a.distanceM) } : {}),
      };
      const dist = a.distanceM === undefined ? '?' : `${Math.round(a.distanceM)} m`;
      background(deviceId, 'relocation', async () => {
        await d.relocation.persistTrack(deviceId, fields);
        if (a.outcome === 'warning') {
          await d.alerts.raiseAlert({
            deviceId,
            merchantId: m.id,
            code: 'relocation_warning',
            severity: 'warning',
            summary: `location ${dist} from the merchant (fence ${m.radiusM} m)`,
            data: { distanceM: a.distanceM, fix: sample.location },
          });
        } else if (a.outcome === 'relocated') {
          await d.alerts.resolveAlert(deviceId, 'relocation_warning', 'superseded by relocated');
          await d.alerts.raiseAlert({
            deviceId,
            merchantId: m.id,
            code: 'relocated',
            severity: 'major',
            summary: `relocated: ${a.track.consecutiveOut} fixes in a row out of the fence (${dist})`,
            data: { distanceM: a.distanceM, fix: sample.location, fixes: a.track.consecutiveOut },
          });
          if (m.policy.lockOnRelocation)
            await d.control.locks.systemLock(deviceId, 'relocated', `${a.track.consecutiveOut} fixes out of the fence, last ${dist}`);
        } else {
          // Back inside (or exempt): the warning clears; a relocation stays until an operator unlocks.
          await d.alerts.resolveAlert(deviceId, 'relocation_warning', 'back inside the fence');
          if (a.outcome === 'returned') await d.alerts.resolveAlert(deviceId, 'relocated', 'back inside the fence');
        }
      });
    }
    // Reported daily figures.
    if (sample.txn) {
      const breaches = checkDailyFigures(m.policy, sample.txn);
      const key = `${sample.txn.day}:${breaches.map((b) => b.rule).join(',')}`;
      if (breaches.length && d.registry.flagged.get(deviceId) !== key) {
        d.registry.flagged.set(deviceId, key);
        background(deviceId, 'txn figures', () => breach(deviceId, m.id, m.policy.lockOnBreach, breaches, 'health'));
      }
    }
  }

  function onEvent(deviceId: string, ev: DeviceEvent) {
    if (d.control.blacklist.isBlacklisted(deviceId)) return;
    if (ev.type === 'boot' && typeof ev.data.locked === 'boolean') {
      const locked = ev.data.locked;
      background(deviceId, 'lock reconcile', () => d.control.locks.reconcile(deviceId, locked));
      return;
    }
    if (ev.type !== 'txn') return;
    const m = d.registry.merchantOf(deviceId);
    const parsed = txnEventData.safeParse(ev.data);
    if (!m || !parsed.success) return;
    const txn = parsed.data;
    const breaches = checkTransaction(m.policy, txn);
    if (breaches.length) background(deviceId, 'txn', () => breach(deviceId, m.id, m.policy.lockOnBreach, breaches, 'txn'));
    if (txn.result === 'approved' && txn.cardHash) {
      const rule = d.burstRule ?? DEFAULT_BURST_RULE;
      const seen = noteTxn(
        d.registry.recentTxns.get(deviceId) ?? [],
        { cardHash: txn.cardHash, amountMinor: txn.amountMinor, atMs: now() },
        rule,
      );
      d.registry.recentTxns.set(deviceId, seen.recent);
      if (seen.burst) {
        const cardHash = txn.cardHash;
        // Once per card: forget its history so the next burst is counted afresh.
        d.registry.recentTxns.set(
          deviceId,
          seen.recent.filter((r) => r.cardHash !== cardHash),
        );
        background(deviceId, 'suspicious card', async () => {
          const reason = `auto: ${seen.count} payments with one card within ${Math.round(rule.windowMs / 60_000)} min at ${deviceId}`;
          const added = await d.cards.add({ cardHash, reason, source: 'auto', deviceId }, SYSTEM);
          await d.alerts.raiseAlert({
            deviceId,
            merchantId: m.id,
            code: 'suspicious_txn',
            severity: 'warning',
            summary: `cash-out-like burst; card blocked (${added.added ? 'added' : 'already listed'})`,
            data: { cardHash, count: seen.count },
          });
        });
      }
    }
  }

  return {
    onHealth,
    onEvent,
    /** Waits for rule actions under way (shutdown, tests). */
    async idle() {
      while (inFlight.size) await Promise.allSettled([...inFlight]);
    },
  };
}
