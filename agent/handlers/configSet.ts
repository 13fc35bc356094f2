import { CommandError, type CommandHandler } from '../dispatcher.ts';
import { agentConfig } from '../schemas.ts';
import type { HandlerEnv } from './env.ts';

// A merge, not a replace: the server may push one setting without knowing the others.
export const configSetHandler =
  (env: HandlerEnv): CommandHandler =>
  async (ctx) => {
    const patch = agentConfig.safeParse(ctx.command.payload);
    if (!patch.success) {
      const i = patch.error.issues[0];
      throw new CommandError('invalid_payload', i ? `${i.path.join('.')}: ${i.message}` : 'bad payload', 'rejected');
    }
    const merged = { ...env.store.loadConfig(), ...patch.data };
    env.store.saveConfig(merged);
    env.applyConfig(merged);
    return { applied: Object.keys(patch.data) };
  };
