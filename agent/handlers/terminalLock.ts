// `lock` / `unlock` with an order: the merchant module numbers them (`version`), so a lock and an
// unlock delivered out of order (an offline terminal getting both on reconnect) end in the
// newer one. Without a version it just sets the lock state, except that it cannot lift a lock
// the merchant module placed. Persisted across restarts.
import { CommandError, type CommandHandler } from '../dispatcher.ts';
import type { HandlerEnv } from './env.ts';

export const terminalLockHandler =
  (env: HandlerEnv, locked: boolean): CommandHandler<'lock' | 'unlock'> =>
  async ({ payload }) => {
    const { version } = payload;
    const state = env.store.loadMerchant();
    // Once the merchant module orders this terminal's locks, a bare `unlock` (sent as a plain
    // command, around the lock reasons) must not lift a lock it placed.
    if (!locked && version === undefined && state.lockVersion > 0 && env.store.loadLock().locked) {
      throw new CommandError('lock_managed', 'this terminal is locked for a reason; unlock it through the lock API', 'rejected');
    }
    if (version !== undefined && version <= state.lockVersion) {
      return { locked: env.store.loadLock().locked, stale: true, version: state.lockVersion };
    }
    if (env.store.loadLock().locked !== locked) env.store.saveLock({ locked, changedAt: env.now() });
    if (version !== undefined) env.store.saveMerchant({ ...state, lockVersion: version });
    return { locked, ...(version !== undefined ? { version } : {}) };
  };
