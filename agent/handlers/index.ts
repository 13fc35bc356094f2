// The registration point for command handlers. ota.install, keys.install, keys.zeroize and
// binding.set are not here yet: until they are, the dispatcher answers them `rejected`
// `unsupported_command`. Add them to this table (or pass them in AgentDeps.handlers, which
// override these) as `(env) => CommandHandler` modules next to the others.
import type { HandlerRegistry } from '../dispatcher.ts';
import { configSetHandler } from './configSet.ts';
import { diagHandler } from './diag.ts';
import type { HandlerEnv } from './env.ts';
import { lockHandler } from './lock.ts';
import { logsUploadHandler } from './logsUpload.ts';
import { rebootHandler } from './reboot.ts';

export type { HandlerEnv } from './env.ts';

export function builtinHandlers(env: HandlerEnv): HandlerRegistry {
  return {
    reboot: rebootHandler(env),
    'diag.run': diagHandler(env),
    lock: lockHandler(env, true),
    unlock: lockHandler(env, false),
    'logs.upload': logsUploadHandler(env),
    'config.set': configSetHandler(env),
  };
}
