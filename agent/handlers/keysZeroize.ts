// keys.zeroize (SPEC §5): wipes the listed slots, or every key and the store's own key.
import { keysZeroizePayload } from '../../schemas/keys.ts';
import { CommandError, type CommandHandler } from '../dispatcher.ts';
import type { SecureStore } from '../keys/secureStore.ts';
import type { HandlerEnv } from './env.ts';

export const keysZeroizeHandler =
  (env: HandlerEnv, store: SecureStore): CommandHandler =>
  async (ctx) => {
    const parsed = keysZeroizePayload.safeParse(ctx.command.payload);
    if (!parsed.success) throw new CommandError('invalid_payload', parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '), 'rejected');
    const zeroized = store.zeroize(parsed.data.slots);
    env.log.warn({ cmdId: ctx.command.id, zeroized, slots: parsed.data.slots ?? 'all' }, 'keys zeroized');
    return { zeroized, inventory: store.inventory() };
  };
