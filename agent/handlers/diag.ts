import { z } from 'zod';
import { CommandError, type CommandHandler } from '../dispatcher.ts';
import { selfTestComponents, type SelfTestComponent } from '../hardware.ts';
import type { HandlerEnv } from './env.ts';

const payload = z.object({ components: z.array(z.enum(selfTestComponents)).min(1).optional() });

// A failing self-test is a result, not a failed command: the diagnosis itself succeeded.
export const diagHandler =
  (env: HandlerEnv): CommandHandler =>
  async (ctx) => {
    const p = payload.safeParse(ctx.command.payload);
    if (!p.success) throw new CommandError('invalid_payload', p.error.issues[0]?.message ?? 'bad payload', 'rejected');
    const components = p.data.components ?? selfTestComponents;
    const result: Partial<Record<SelfTestComponent, 'pass' | 'fail'>> = {};
    const details: Partial<Record<SelfTestComponent, string>> = {};
    for (const [i, c] of components.entries()) {
      ctx.progress(`testing_${c}`, Math.round((i / components.length) * 100));
      const outcome = await env.hardware.selfTest(c);
      let status = outcome.status;
      if (c === 'network' && !env.isConnected()) {
        status = 'fail';
        details.network = 'broker unreachable';
      } else if (outcome.detail) details[c] = outcome.detail;
      result[c] = status;
    }
    return { ...result, details };
  };
