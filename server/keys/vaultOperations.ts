// The key blocks a terminal receives, built once over whichever custody holds the keys (software
// simulation or PKCS#11 HSM), so both backends send the same bytes. Keys are generated and sealed
// inside the custody; a clear key leaves it only through openForTransport, inside the one call
// that wraps it for the terminal.
import type { KeyBlockHeader } from '../../schemas/keyCrypto/header.ts';
import { sealTmkBlock } from '../../schemas/keyCrypto/keyBlock.ts';
import { deriveTr31Keys } from '../../schemas/keyCrypto/tr31.ts';
import { workingKeyTr31 } from '../../schemas/keyCrypto/workingKeyTr31.ts';
import type { HeldKey, KeyCustody } from './keyCustody.ts';
import type { KeyVault, WireBlock } from './keyVault.ts';

/** Terminal keys are AES-256. */
const TERMINAL_KEY = 'AES256';

export interface WorkingKeyWrapper {
  wrap(header: KeyBlockHeader, key: Buffer): WireBlock;
  /** Wipes what was derived from the TMK. */
  dispose(): void;
}

/**
 * How working keys travel under a clear TMK (while it is open for transport): the one place that
 * names the working-key block format, TR-31 version D with the TMK as KBPK (PFK1 is only read now,
 * docs/keys.md "Migration"). The TMK's KBEK and KBMK are derived once per device.
 */
export function workingKeyWrapper(tmk: Buffer): WorkingKeyWrapper {
  const keys = deriveTr31Keys(tmk);
  return {
    wrap: (header, key) => ({ format: 'tr31', block: workingKeyTr31({ header, key, tmk: keys }) }),
    dispose: () => {
      keys.kbek.fill(0);
      keys.kbmk.fill(0);
    },
  };
}

export function createKeyVault(custody: KeyCustody): KeyVault {
  function underOpenTmk<T>(tmk: HeldKey, fn: (w: WorkingKeyWrapper) => T): T {
    return custody.openForTransport(tmk, (t) => {
      const w = workingKeyWrapper(t);
      try {
        return fn(w);
      } finally {
        w.dispose();
      }
    });
  }

  return {
    info: () => custody.info(),
    generate: (ref) => custody.generate(ref, TERMINAL_KEY),
    generateTmk(ref, header, kekPublicKey) {
      const sealed = custody.generate(ref, TERMINAL_KEY);
      return { ...sealed, block: custody.openForTransport({ ref, sealed: sealed.sealed }, (key) => sealTmkBlock({ header, key, kekPublicKey })) };
    },
    exportTmk: (tmk, header, kekPublicKey) => custody.openForTransport(tmk, (key) => sealTmkBlock({ header, key, kekPublicKey })),
    underTmk: (tmk, items) =>
      underOpenTmk(tmk, (w) =>
        items.map((item) => {
          if ('key' in item) return { block: custody.openForTransport(item.key, (key) => w.wrap(item.header, key)) };
          const generated = custody.generate(item.generate, TERMINAL_KEY);
          return { block: custody.openForTransport({ ref: item.generate, sealed: generated.sealed }, (key) => w.wrap(item.header, key)), generated };
        }),
      ),
    exportUnderTmk: (key, tmk, header) => underOpenTmk(tmk, (w) => custody.openForTransport(key, (k) => w.wrap(header, k))),
    reseal: (key) => custody.reseal(key),
  };
}
