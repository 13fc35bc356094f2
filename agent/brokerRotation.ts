// Which broker URL the next connection attempt uses. A terminal keeps the URL that last worked
// (a dropped link is usually the network, not the address) and moves to the next one in its list
// only after FAILS_BEFORE_NEXT attempts in a row failed there, wrapping round: a fleet told
// [new, old] before a move keeps working on old until it goes away, then finds new.
export const FAILS_BEFORE_NEXT = 2;

export interface BrokerRotation {
  /** The URL for the next attempt, from the list as it is now (it may have changed). */
  next(): string;
  /** The attempt on the current URL failed (no CONNACK, refused, socket error). */
  failed(): void;
  /** Connected: stay on this URL. */
  succeeded(): void;
}

export function createBrokerRotation(urls: () => readonly string[], failsBeforeNext = FAILS_BEFORE_NEXT): BrokerRotation {
  let current: string | undefined;
  let fails = 0;

  return {
    next() {
      const list = urls();
      if (list.length === 0) throw new Error('no broker URL to connect to');
      // A new list without the URL in use (a trust.set moved the fleet) starts at its primary.
      if (current === undefined || !list.includes(current)) {
        current = list[0]!;
        fails = 0;
      } else if (fails >= failsBeforeNext && list.length > 1) {
        current = list[(list.indexOf(current) + 1) % list.length]!;
        fails = 0;
      }
      return current;
    },
    failed() {
      fails++;
    },
    succeeded() {
      fails = 0;
    },
  };
}
