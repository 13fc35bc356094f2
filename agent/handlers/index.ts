// The registration point for command handlers; a type missing here is answered `rejected`
// `unsupported_command`. Add handlers to this table (or pass them in AgentDeps.handlers, which
// override these) as `(env) => CommandHandler` modules next to the others.
import type { HandlerRegistry } from '../dispatcher.ts';
import { appHandlers } from '../apps/appHandlers.ts';
import { bindingSetHandler } from './bindingSet.ts';
import { cancelHandler } from './cancel.ts';
import { configSetHandler } from './configSet.ts';
import { diagHandler } from './diag.ts';
import { keyHandlers } from '../keys/keyHandlers.ts';
import type { HandlerEnv } from './env.ts';
import { logsUploadHandler } from './logsUpload.ts';
import { otaInstallHandler } from './otaInstall.ts';
import { rebootHandler } from './reboot.ts';
import { terminalLockHandler } from './terminalLock.ts';
import { trustSetHandler } from './trustSet.ts';

export type { HandlerEnv } from './env.ts';

export function builtinHandlers(env: HandlerEnv): HandlerRegistry {
  return {
    reboot: rebootHandler(env),
    'diag.run': diagHandler(env),
    lock: terminalLockHandler(env, true),
    unlock: terminalLockHandler(env, false),
    'binding.set': bindingSetHandler(env),
    'logs.upload': logsUploadHandler(env),
    'config.set': configSetHandler(env),
    'ota.install': otaInstallHandler(env),
    cancel: cancelHandler(env),
    'trust.set': trustSetHandler(env),
    ...keyHandlers(env),
    ...appHandlers(env),
  };
}
