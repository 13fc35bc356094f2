import { CommandError, type CommandHandler } from '../dispatcher.ts';
import { checkParameters } from '../parameters/terminalParameters.ts';
import type { HandlerEnv } from './env.ts';

// A merge, not a replace: the server may push one setting without knowing the others. A
// parameter set is checked whole before anything is stored; one that does not pass is refused
// and the terminal keeps (and reports) the set it had.
export const configSetHandler =
  (env: HandlerEnv): CommandHandler<'config.set'> =>
  async ({ payload }) => {
    if (payload.parameters) {
      const check = checkParameters(payload.parameters);
      if (!check.ok) throw new CommandError(check.code, check.message, 'rejected');
    }
    const merged = { ...env.store.loadConfig(), ...payload };
    env.store.saveConfig(merged);
    env.applyConfig(merged);
    const p = payload.parameters;
    return { applied: Object.keys(payload), ...(p ? { parameters: { templateId: p.templateId, version: p.version, digest: p.digest } } : {}) };
  };
