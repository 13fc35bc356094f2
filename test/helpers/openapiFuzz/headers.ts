// Headers a client may send broken, one per request that breaks a header.
import { pickOf } from './garbage.ts';

/** Values a fetch client can send: Latin-1, no CR/LF. */
export const HEADER_GARBAGE: [name: string, value: string][] = [
  ['idempotency-key', ''],
  ['idempotency-key', ' '],
  ['idempotency-key', 'k'.repeat(256)],
  ['idempotency-key', 'caf\u00e9'],
  ['idempotency-key', 'a\tb'],
  ['authorization', 'Bearer'],
  ['authorization', 'Bearer  '],
  ['authorization', 'Basic dXNlcjpwYXNz'],
  ['authorization', `Bearer pf_${'a'.repeat(4_000)}`],
  ['authorization', 'Bearer pf_\u00ff\u00fe'],
  ['authorization', 'Bearer a b c'],
  ['x-forwarded-for', 'garbage, 999.1.1.1, ::ffff:, '],
  ['x-forwarded-for', '1.2.3.4,'.repeat(500)],
  ['accept', 'text/html'],
  ['range', 'bytes=abc'],
  ['range', 'bytes=-0'],
  ['range', 'bytes=99999999999999999999-'],
  ['range', 'bytes=5-1, 0-0, 1-'],
  ['if-none-match', '"\u00ff"'],
];

export function brokenHeader(garbagePick: number): { headers: Record<string, string>; mutation: string } {
  const [name, value] = pickOf(HEADER_GARBAGE, garbagePick);
  return { headers: { [name]: value }, mutation: `header ${name}: ${JSON.stringify(value.slice(0, 40))}` };
}
