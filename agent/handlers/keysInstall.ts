// keys.install (SPEC §5): unwrap, check header and KCV, store all keys at once, ack with the
// KCVs computed here. With no items it reports the key inventory.
import type { KeysInstallResult } from '../../schemas/keys.ts';
import { CommandError, type CommandHandler } from '../dispatcher.ts';
import { KeyInstallError, unwrapItems } from '../keys/installKeys.ts';
import { dukptCheckAfterInstall, type DukptTerminal } from '../keys/dukptTerminal.ts';
import type { SecureStore } from '../keys/secureStore.ts';
import type { HandlerEnv } from './env.ts';

export const keysInstallHandler =
  (env: HandlerEnv, store: SecureStore, dukpt?: DukptTerminal): CommandHandler<'keys.install'> =>
  async (ctx) => {
    const deviceId = env.store.loadEnrollment()?.deviceId;
    if (!deviceId) throw new CommandError('not_enrolled', 'this terminal has no enrollment', 'rejected');
    const { items } = ctx.payload;
    if (items.length) {
      ctx.progress('installing');
      let keys;
      try {
        keys = unwrapItems(items, { deviceId, kek: env.store.loadOrCreateKek().privateKey, store });
      } catch (err) {
        if (err instanceof KeyInstallError) {
          env.log.warn({ cmdId: ctx.command.id, code: err.code }, 'key install refused');
          throw new CommandError(err.code, err.message, err.state);
        }
        throw err;
      }
      try {
        store.install(keys, env.now());
      } finally {
        for (const k of keys) k.key.fill(0);
      }
      env.log.info({ cmdId: ctx.command.id, keys: keys.map((k) => ({ slot: k.slot, keyId: k.keyId, version: k.version, kcv: k.kcv })) }, 'keys installed');
      // After the store: the check takes the initial key's next counter, as a transaction would.
      const dukptCheck = dukpt && dukptCheckAfterInstall(dukpt, keys);
      const result: KeysInstallResult = { installed: keys.map(({ slot, usage, keyId, version, kcv }) => ({ slot, usage, keyId, version, kcv })), inventory: store.inventory(), ...(dukptCheck ? { dukptCheck } : {}) };
      return result;
    }
    return { installed: [], inventory: store.inventory() } satisfies KeysInstallResult;
  };
