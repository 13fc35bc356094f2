import type { CommandHandler } from '../dispatcher.ts';
import type { HandlerEnv } from './env.ts';

// A merge, not a replace: the server may push one setting without knowing the others.
export const configSetHandler =
  (env: HandlerEnv): CommandHandler<'config.set'> =>
  async ({ payload }) => {
    const merged = { ...env.store.loadConfig(), ...payload };
    env.store.saveConfig(merged);
    env.applyConfig(merged);
    return { applied: Object.keys(payload) };
  };
