// The transaction counter of a DUKPT slot, one set of rules per scheme (docs/keys.md "Counter
// rules", "Transaction counter"): which counter follows, how many are left, and the KSN a counter
// gives. Pure; the terminal (dukptTerminal.ts) persists the counter before it uses it.
import * as aes from '../../schemas/keyCrypto/dukptAes.ts';
import * as tdes from '../../schemas/keyCrypto/dukptTdes.ts';
import type { DukptScheme } from '../../schemas/keys.ts';

export interface CounterRules {
  /** The counter after `c`, or null once the key is exhausted. */
  next(c: number): number | null;
  /** How many usable counters follow `c` (0: exhausted). */
  left(c: number): number;
  /** Usable counters of a fresh initial key. */
  lifetime: number;
  /** The largest counter value the KSN holds (usable or not). */
  maxCounter: number;
  /** Bytes of the initial KSN (counter 0). */
  ksnBytes: number;
  /** The KSN of counter `c` from the initial KSN. */
  ksn(initialKsn: Uint8Array, c: number): Buffer;
}

const binomial = (n: number, k: number): number => {
  let r = 1;
  for (let i = 1; i <= k; i++) r = (r * (n - k + i)) / i;
  return r;
};

/** Counters in [0, c] (0 included) of `bits` bits with at most `maxOnes` one-bits, counted by prefix. */
function validUpTo(c: number, bits: number, maxOnes: number): number {
  let n = 0;
  let ones = 0;
  for (let p = bits - 1; p >= 0; p--) {
    if (Math.floor(c / 2 ** p) % 2 === 0) continue;
    // Every counter sharing c's bits above p, with a 0 at p, and any low bits within the budget.
    for (let k = 0; k <= maxOnes - ones && k <= p; k++) n += binomial(p, k);
    ones++;
  }
  return ones <= maxOnes ? n + 1 : n;
}

/** Σ C(32, k) for k = 1..16: every AES counter from 1 to 0xFFFF0000. */
export const AES_COUNTER_LIFETIME = validUpTo(0xffffffff, 32, aes.MAX_COUNTER_ONE_BITS) - 1;

const aesRules: CounterRules = {
  next: aes.nextCounter,
  left: (c) => AES_COUNTER_LIFETIME - (validUpTo(c, 32, aes.MAX_COUNTER_ONE_BITS) - 1),
  lifetime: AES_COUNTER_LIFETIME,
  maxCounter: 0xffffffff,
  ksnBytes: aes.KSN_BYTES,
  ksn: (initialKsn, c) => aes.encodeKsn(aes.parseKsn(initialKsn).initialKeyId, c),
};

const tdesRules: CounterRules = {
  next: tdes.nextCounter,
  left: tdes.countersLeft,
  lifetime: tdes.COUNTER_LIFETIME,
  maxCounter: tdes.COUNTER_MASK,
  ksnBytes: tdes.KSN_BYTES,
  ksn: (initialKsn, c) => tdes.withCounter(initialKsn, c),
};

export const counterRules = (scheme: DukptScheme): CounterRules => (scheme === 'tdes' ? tdesRules : aesRules);
