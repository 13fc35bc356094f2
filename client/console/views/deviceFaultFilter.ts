// The device list's open-fault filter, carried to GET /v1/devices as a fleet query
// (docs/groups-and-filters.md): any open fault is `fault ~ ""` (every code contains the empty
// text), one code is `fault = "code"`, and "without" puts `not` before either.
export type FaultPresence = '' | 'with' | 'without';

export const isFaultPresence = (v: string | null | undefined): v is FaultPresence => v === '' || v === 'with' || v === 'without';

/** The fleet query for the filter, or undefined when it does not narrow the list. */
export function faultQuery(presence: FaultPresence, code: string | undefined): string | undefined {
  const c = code?.trim();
  const test = c ? `fault = ${JSON.stringify(c)}` : 'fault ~ ""';
  if (presence === 'without') return `not ${test}`;
  if (presence === 'with' || c) return test;
  return undefined;
}
