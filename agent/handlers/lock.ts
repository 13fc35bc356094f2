import type { CommandHandler } from '../dispatcher.ts';
import type { HandlerEnv } from './env.ts';

// Persisted so a locked terminal stays locked across restarts; idempotent by design.
export const lockHandler =
  (env: HandlerEnv, locked: boolean): CommandHandler =>
  async () => {
    if (env.store.loadLock().locked !== locked) env.store.saveLock({ locked, changedAt: env.now() });
    return { locked };
  };
