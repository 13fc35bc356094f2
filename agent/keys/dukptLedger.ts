// The last transaction counter used under each initial KSN the terminal has held, in
// `dukpt-counters.json` in the state dir. It only moves forward and outlives the key store on
// purpose: a zeroize (tamper) or a re-injection of the same initial key must not let the
// terminal send a KSN twice, which would repeat a transaction key. Not secret: a KSN travels in
// clear with every transaction.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from '../stateStore.ts';
import { DukptError } from './dukptError.ts';

const FILE = 'dukpt-counters.json';
const ledgerFile = z.object({ v: z.literal(1), used: z.record(z.string().regex(/^[0-9A-F]{20,24}$/), z.number().int().nonnegative()) });

export interface DukptLedger {
  /** The last counter used under this initial KSN (upper-case hex), 0 when none. */
  used(initialKsn: string): number;
  /** Records `counter` as used, on disk, before the caller uses it; refuses to go back. */
  advance(initialKsn: string, counter: number): void;
}

export function openDukptLedger(dir: string): DukptLedger {
  const path = join(dir, FILE);

  function read(): Record<string, number> {
    if (!existsSync(path)) return {};
    try {
      return ledgerFile.parse(JSON.parse(readFileSync(path, 'utf8'))).used;
    } catch (err) {
      // Starting over from 0 would repeat KSNs: an unreadable ledger stops the DUKPT slots instead.
      throw new DukptError('ledger_unreadable', `${FILE} is unreadable; the DUKPT slots stay closed until it is repaired`, { cause: err });
    }
  }

  return {
    used: (initialKsn) => read()[initialKsn] ?? 0,
    advance(initialKsn, counter) {
      const used = read();
      const last = used[initialKsn] ?? 0;
      if (counter <= last)
        throw new DukptError('counter_reused', `counter ${counter} is not after ${last}, the last one used under ${initialKsn}`);
      used[initialKsn] = counter;
      writeFileAtomic(path, `${JSON.stringify({ v: 1, used }, null, 2)}\n`);
    },
  };
}
