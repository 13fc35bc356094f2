// Device-side checks of a keys.install (docs/keys.md "Commands"): every item is checked before
// any is stored; a header that does not match (other device, slot, an older version) is refused.
import type { KeyObject } from 'node:crypto';
import { keyCheckValue, sameKcv } from '../../schemas/keyCrypto/cmac.ts';
import { KeyBlockError, slotFitsUsage, WRAPPED_BY_KEK } from '../../schemas/keyCrypto/header.ts';
import type { KeyInstallItem } from '../../schemas/keys.ts';
import { unwrapInitialKey } from './dukptInstall.ts';
import { KeyInstallError } from './installError.ts';
import { readItemBlock } from './itemBlock.ts';
import type { NewKey, SecureStore } from './secureStore.ts';

export { KeyInstallError } from './installError.ts';

const reject = (code: string, message: string) => new KeyInstallError(code, message, 'rejected');

/** Unwraps and checks every item; returns the keys to store (the caller stores them all at once). */
export function unwrapItems(items: readonly KeyInstallItem[], ctx: { deviceId: string; kek: KeyObject; store: SecureStore }): NewKey[] {
  const out: NewKey[] = [];
  const tmks = new Map<string, Buffer>();
  try {
    for (const item of items) {
      if (item.usage === 'IK' || item.dukpt) {
        out.push(unwrapInitialKey(item, { deviceId: ctx.deviceId, store: ctx.store, pending: out }));
        continue;
      }
      // PFK1 or TR-31, as the item says: either reads as a posfleet header before any key opens it.
      const p = readItemBlock(item);
      const h = p.header;
      if (h.dev !== ctx.deviceId) throw reject('wrong_device', `block ${item.keyId} is for another device`);
      if (h.slot !== item.slot || h.usage !== item.usage || !slotFitsUsage(h.slot, h.usage)) throw reject('wrong_slot', `block ${item.keyId} is for slot ${h.slot} (${h.usage}), not ${item.slot}`);
      if (h.kid !== item.keyId || h.ver !== item.version) throw reject('wrong_slot', `block header names key ${h.kid} v${h.ver}, not ${item.keyId} v${item.version}`);
      const current = ctx.store.slot(h.slot);
      if (current && (h.ver < current.version || (h.ver === current.version && h.kid !== current.keyId))) {
        throw reject('stale_version', `slot ${h.slot} holds version ${current.version}; block has version ${h.ver}`);
      }
      let key: Buffer;
      try {
        if (h.usage === 'TMK') {
          if (h.wk !== WRAPPED_BY_KEK) throw reject('unknown_wrapping_key', 'a TMK travels under the KEK');
          key = p.openWithKek(ctx.kek);
        } else {
          let tmk = tmks.get(h.wk);
          if (!tmk) {
            const installed = ctx.store.slot('tmk');
            if (installed?.keyId !== h.wk) throw reject('unknown_wrapping_key', `block ${item.keyId} is under TMK ${h.wk}, which this terminal does not hold`);
            tmk = ctx.store.keyOf('tmk')!;
            tmks.set(h.wk, tmk);
          }
          key = p.openWithTmk(tmk);
        }
      } catch (err) {
        // A block that authenticates but holds no key posfleet can use is malformed, not a failed unwrap.
        if (err instanceof KeyBlockError) throw new KeyInstallError(err.code, err.message, err.code === 'bad_block' ? 'rejected' : 'failed', { cause: err });
        throw err;
      }
      const kcv = keyCheckValue(key);
      const expected = p.kcv === undefined ? [item.kcv] : [item.kcv, p.kcv];
      const differs = expected.find((e) => !sameKcv(kcv, e));
      if (differs) {
        key.fill(0);
        throw new KeyInstallError('kcv_mismatch', `key ${item.keyId}: computed ${kcv}, expected ${differs}`, 'failed');
      }
      if (h.usage === 'TMK') tmks.set(h.kid, key);
      out.push({ slot: h.slot, usage: h.usage, keyId: h.kid, version: h.ver, kcv, key, wk: h.wk });
    }
    return out;
  } catch (err) {
    for (const k of out) k.key.fill(0);
    throw err;
  } finally {
    for (const t of tmks.values()) if (!out.some((o) => o.key === t)) t.fill(0);
  }
}
