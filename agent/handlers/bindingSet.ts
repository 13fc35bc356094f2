// `binding.set` (SPEC §6): accept a binding token only if it verifies against the binding key
// pinned at enrollment, names this terminal and carries a newer epoch than any accepted before.
// A re-binding (wipe, or another merchant) clears the previous merchant's data and keys first.
import { CONFIG_KEY_CARD_BLACKLIST, CONFIG_KEY_POLICY } from '../../schemas/binding.ts';
import { verifyBindingToken } from '../binding.ts';
import { openSecureStore } from '../keys/secureStore.ts';
import { CommandError, type CommandHandler } from '../dispatcher.ts';
import type { HandlerEnv } from './env.ts';

export const bindingSetHandler =
  (env: HandlerEnv): CommandHandler<'binding.set'> =>
  async ({ payload }) => {
    const enrollment = env.store.loadEnrollment();
    if (!enrollment) throw new CommandError('not_enrolled', 'no enrollment in the state dir', 'rejected');
    const state = env.store.loadMerchant();
    const verdict = verifyBindingToken(payload.token, enrollment.trust.bindingKey, enrollment.deviceId, state.binding);
    if (!verdict.ok) {
      env.log.warn({ code: verdict.code }, `binding token refused: ${verdict.message}`);
      throw new CommandError(verdict.code, verdict.message, 'rejected');
    }
    const claims = verdict.claims;
    if (verdict.same) return { merchantId: claims.merchantId, tid: claims.tid, epoch: claims.epoch, unchanged: true };
    // Even with no binding held (state lost, never bound), an epoch at or below the high-water mark is a replay.
    if (claims.epoch <= state.highestEpoch)
      throw new CommandError('stale_epoch', `epoch ${claims.epoch} is not newer than ${state.highestEpoch}`, 'rejected');

    const wipe = payload.wipe === true || (state.binding !== null && state.binding.claims.merchantId !== claims.merchantId);
    let config = env.store.loadConfig();
    let keysZeroized = 0;
    if (wipe) {
      const { [CONFIG_KEY_POLICY]: _dropped, ...rest } = config;
      void _dropped;
      config = rest;
      // The previous merchant's keys go too, even if the server's keys.zeroize is lost or late.
      keysZeroized = openSecureStore(env.store.dir).zeroize();
      env.log.info(
        { from: state.binding?.claims.merchantId, to: claims.merchantId, keysZeroized },
        're-binding: merchant data and keys wiped',
      );
    }
    env.store.saveMerchant({
      ...state,
      binding: { token: payload.token, claims, acceptedAt: env.now() },
      highestEpoch: claims.epoch,
      ...(wipe ? { figures: null, journal: [] } : {}),
    });
    if (payload.txnPolicy && payload.txnPolicy.merchantId === claims.merchantId)
      config = { ...config, [CONFIG_KEY_POLICY]: payload.txnPolicy };
    if (payload.cardBlacklist) config = { ...config, [CONFIG_KEY_CARD_BLACKLIST]: payload.cardBlacklist };
    env.store.saveConfig(config);
    env.applyConfig(config);
    return { merchantId: claims.merchantId, tid: claims.tid, epoch: claims.epoch, wiped: wipe, ...(wipe ? { keysZeroized } : {}) };
  };
