// The terminal side of DUKPT (docs/keys.md "DUKPT injection"): per `dukpt` slot the initial key
// (AES, X9.24-3) or IPEK (TDES, X9.24-1) sits in the secure store, the counter in the ledger.
// Each transaction takes the next counter, records it on disk first (so a crash skips a counter
// rather than repeating one), then derives that counter's PIN key and enciphers the PIN block.
import { randomBytes } from 'node:crypto';
import * as aes from '../../schemas/keyCrypto/dukptAes.ts';
import * as tdes from '../../schemas/keyCrypto/dukptTdes.ts';
import type { DukptCheck, DukptScheme, DukptState, InventoryEntry } from '../../schemas/keys.ts';
import { counterRules } from './dukptCounters.ts';
import { DukptError } from './dukptError.ts';
import { openDukptLedger, type DukptLedger } from './dukptLedger.ts';
import type { SecureStore } from './secureStore.ts';

/** The round trip of docs/keys.md "DUKPT injection", checked by the server on the ack. */
export const CHECK_PIN = '1234';
export const CHECK_PAN = '4111111111111111';

export interface DukptTerminal {
  /** The DUKPT slots that hold an initial key, sorted. */
  slots(): string[];
  /** A slot's counter now; undefined for a slot without an initial key. */
  state(slot: string): DukptState | undefined;
  /** Takes the slot's next counter and enciphers the PIN block of `pin` and `pan` under its PIN key. */
  encipherPin(slot: string, pin: string, pan: string): DukptCheck;
  /** The store's inventory with each DUKPT slot's counter as it is now. */
  inventory(): InventoryEntry[];
}

export interface DukptTerminalDeps {
  store: SecureStore;
  ledger: DukptLedger;
  /** The random half of a format 4 PIN field; fixed only to replay published vectors. */
  random?: (bytes: number) => Buffer;
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex').toUpperCase();

/** The initial KSN of a slot's stored state (the stored KSN with its counter cleared). */
const initialKsnOf = (s: Pick<DukptState, 'scheme' | 'ksn'>): Buffer => counterRules(s.scheme).ksn(Buffer.from(s.ksn, 'hex'), 0);

/** The format 4 (AES) or format 0 (TDES) PIN block of `counter`'s PIN key; `key` is the initial key. */
function pinBlockAt(scheme: DukptScheme, key: Buffer, ksn: Buffer, pin: string, pan: string, random: Buffer): Buffer {
  if (scheme === 'tdes') {
    const txnKey = tdes.deriveTransactionKey(key, ksn);
    try {
      return tdes.encryptPinBlock(txnKey, pin, pan);
    } finally {
      txnKey.fill(0);
    }
  }
  const { initialKeyId, counter } = aes.parseKsn(ksn);
  const dk = aes.derivationKeyFor(key, initialKeyId, counter);
  const pinKey = aes.workingKey(dk, initialKeyId, counter, 'pinEncryption', scheme === 'aes128' ? 'AES128' : 'AES256');
  try {
    return aes.encipherPinBlock(pinKey, pin, pan, random);
  } finally {
    dk.fill(0);
    pinKey.fill(0);
  }
}

export function createDukptTerminal(deps: DukptTerminalDeps): DukptTerminal {
  const random = deps.random ?? randomBytes;

  function stateOf(entry: InventoryEntry): DukptState | undefined {
    if (entry.usage !== 'IK' || !entry.dukpt) return undefined;
    const rules = counterRules(entry.dukpt.scheme);
    const initial = initialKsnOf(entry.dukpt);
    const counter = deps.ledger.used(hex(initial));
    return { scheme: entry.dukpt.scheme, ksn: hex(rules.ksn(initial, counter)), counter, countersLeft: rules.left(counter) };
  }

  const entryOf = (slot: string) => deps.store.inventory().find((e) => e.slot === slot);

  return {
    slots: () =>
      deps.store
        .inventory()
        .filter((e) => stateOf(e))
        .map((e) => e.slot),
    state(slot) {
      const e = entryOf(slot);
      return e && stateOf(e);
    },
    encipherPin(slot, pin, pan) {
      const entry = entryOf(slot);
      const now = entry && stateOf(entry);
      if (!now) throw new DukptError('no_initial_key', `slot ${slot} holds no DUKPT initial key`);
      const rules = counterRules(now.scheme);
      const next = rules.next(now.counter);
      if (next === null)
        throw new DukptError('exhausted', `slot ${slot}: every counter of initial KSN ${now.ksn} is used; it needs a new initial key`);
      const initial = initialKsnOf(now);
      deps.ledger.advance(hex(initial), next);
      const ksn = rules.ksn(initial, next);
      const key = deps.store.keyOf(slot);
      if (!key) throw new DukptError('no_initial_key', `slot ${slot} holds no DUKPT initial key`);
      try {
        return { slot, ksn: hex(ksn), pinBlock: hex(pinBlockAt(now.scheme, key, ksn, pin, pan, random(8))) };
      } finally {
        key.fill(0);
      }
    },
    inventory: () =>
      deps.store.inventory().map((e) => {
        const s = stateOf(e);
        return s ? { ...e, dukpt: s } : e;
      }),
  };
}

/** The DUKPT slots of the key store in a state dir. */
export const openDukptTerminal = (dir: string, store: SecureStore): DukptTerminal =>
  createDukptTerminal({ store, ledger: openDukptLedger(dir) });

/**
 * The key store as the handlers report it: the same store, whose inventory shows each DUKPT slot's
 * counter as it is now (the stored entry keeps the initial KSN only).
 */
export const reportingDukpt = (store: SecureStore, dukpt: DukptTerminal): SecureStore => ({ ...store, inventory: dukpt.inventory });

/**
 * The round trip of the first initial key a command installed (CHECK_PIN, CHECK_PAN at the slot's
 * next counter), for the ack; none when that key's counters are already used up (re-injected).
 */
export function dukptCheckAfterInstall(
  dukpt: DukptTerminal,
  installed: readonly Pick<InventoryEntry, 'slot' | 'usage'>[],
): DukptCheck | undefined {
  const first = installed.find((k) => k.usage === 'IK');
  if (!first) return undefined;
  try {
    return dukpt.encipherPin(first.slot, CHECK_PIN, CHECK_PAN);
  } catch (err) {
    if (err instanceof DukptError && err.code === 'exhausted') return undefined;
    throw err;
  }
}

/**
 * A PIN entry of a payment: the block under the first DUKPT slot's next transaction key; undefined
 * when the terminal holds no initial key or the payment has no PAN to bind it to, null when the
 * slot refuses (its counters are used up).
 */
export function enterPin(pinPad: DukptTerminal, pin: string, pan: string | undefined): DukptCheck | null | undefined {
  const slot = pinPad.slots()[0];
  if (!slot || !pan) return undefined;
  try {
    return pinPad.encipherPin(slot, pin, pan);
  } catch (err) {
    if (err instanceof DukptError) return null;
    throw err;
  }
}
