// Why a DUKPT slot cannot serve a transaction. A payment app maps these to a declined PIN entry;
// none of them is retried with an older counter.
export const dukptErrorCodes = [
  /** No initial key in that slot (or the slot is not a DUKPT slot). */
  'no_initial_key',
  /** Every counter of the initial key is used: it needs a new initial key. */
  'exhausted',
  /** The counter ledger does not read: starting over would repeat KSNs. */
  'ledger_unreadable',
  /** A counter at or before the last one used was about to be recorded. */
  'counter_reused',
] as const;
export type DukptErrorCode = (typeof dukptErrorCodes)[number];

export class DukptError extends Error {
  constructor(
    readonly code: DukptErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'DukptError';
  }
}
