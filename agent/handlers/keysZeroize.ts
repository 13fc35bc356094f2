// keys.zeroize (SPEC §5): wipes the listed slots, or every key and the store's own key.
import type { CommandHandler } from '../dispatcher.ts';
import type { SecureStore } from '../keys/secureStore.ts';
import type { HandlerEnv } from './env.ts';

export const keysZeroizeHandler =
  (env: HandlerEnv, store: SecureStore): CommandHandler<'keys.zeroize'> =>
  async (ctx) => {
    const { slots } = ctx.payload;
    const zeroized = store.zeroize(slots);
    env.log.warn({ cmdId: ctx.command.id, zeroized, slots: slots ?? 'all' }, 'keys zeroized');
    return { zeroized, inventory: store.inventory() };
  };
