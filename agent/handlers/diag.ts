import { selfTestComponents, type SelfTestComponent } from '../../schemas/commands.ts';
import type { CommandHandler } from '../dispatcher.ts';
import type { HandlerEnv } from './env.ts';

// A failing self-test is a result, not a failed command: the diagnosis itself succeeded.
export const diagHandler =
  (env: HandlerEnv): CommandHandler<'diag.run'> =>
  async (ctx) => {
    const components = ctx.payload.components ?? selfTestComponents;
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
