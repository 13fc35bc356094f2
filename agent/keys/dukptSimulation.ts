// Simulator and test knob, never used by the production agent: a terminal that starts near the end
// of its initial key's counters, so that the counter-low alert and the exhaustion refusal can be
// exercised without billions of transactions. It only moves the ledger forward, so even misused it
// cannot make a KSN repeat.
import type { DukptState } from '../../schemas/keys.ts';
import { counterRules, type CounterRules } from './dukptCounters.ts';
import { DukptError } from './dukptError.ts';
import { openDukptLedger } from './dukptLedger.ts';
import { createDukptTerminal } from './dukptTerminal.ts';
import { openSecureStore } from './secureStore.ts';

/** The smallest counter after which at most `left` counters remain (left() never grows with c). */
export function counterWithLeft(rules: CounterRules, left: number): number {
  let lo = 0;
  let hi = rules.maxCounter;
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    if (rules.left(mid) <= left) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** Marks the slot's counters used until only `left` remain (no change if fewer already do); returns its state. */
export function useCountersUntil(dir: string, slot: string, left: number): DukptState {
  const store = openSecureStore(dir);
  const ledger = openDukptLedger(dir);
  const terminal = createDukptTerminal({ store, ledger });
  const now = terminal.state(slot);
  if (!now) throw new DukptError('no_initial_key', `slot ${slot} holds no DUKPT initial key`);
  const rules = counterRules(now.scheme);
  const target = counterWithLeft(rules, left);
  if (target > now.counter) ledger.advance(rules.ksn(Buffer.from(now.ksn, 'hex'), 0).toString('hex').toUpperCase(), target);
  const after = terminal.state(slot);
  if (!after) throw new DukptError('no_initial_key', `slot ${slot} lost its DUKPT initial key meanwhile`);
  return after;
}
