import type { CommandHandler } from '../dispatcher.ts';
import type { HandlerEnv } from './env.ts';

// The final ack goes out after the restart, so `succeeded` means the terminal came back.
export const rebootHandler =
  (env: HandlerEnv): CommandHandler =>
  async (ctx) => {
    ctx.progress('rebooting');
    const startedAt = env.now();
    await env.reboot();
    return { downtimeMs: env.now() - startedAt };
  };
