// The URL of a request: its path ids and query percent-encoded, one of them broken when the
// choice says so (encoded garbage, a lone surrogate, a long value, a duplicate or array form).
import type { FuzzOperation, Resolve } from './document.ts';
import type { Broken, Choice, Parts } from './fuzzRequest.ts';
import { CONTROL, insertInto, pickOf, SURROGATES } from './garbage.ts';
import { encodeLoose, ENCODED_GARBAGE, spliceEncoded } from './percentEncoding.ts';
import { coerced, definitelyRefuses } from './refusal.ts';

export function pathOf(op: FuzzOperation, pathValues: Parts['pathValues'], ch: Choice): Broken & { path: string } {
  const ids = Object.fromEntries(Object.entries(pathValues).map(([k, v]) => [k, encodeLoose(v)]));
  let broken: Broken = { refuse: false };
  if (ch.target === 'path') {
    const p = pickOf(op.pathParams, ch.nodePick);
    const garbage = pickOf([...ENCODED_GARBAGE, 'long', 'surrogate'], ch.garbagePick);
    const before = pathValues[p.name] ?? '';
    // Long ids stay under Node's 16 KiB header limit, which answers 431 before the app sees them.
    if (garbage === 'long') ids[p.name] = 'a'.repeat(4_000);
    else if (garbage === 'surrogate') ids[p.name] = encodeLoose(insertInto(before, pickOf(SURROGATES, ch.pick)));
    else ids[p.name] = spliceEncoded(before, garbage);
    // A lone surrogate travels as WTF-8 bytes no decoder takes: the id arrives still encoded.
    broken = { refuse: garbage === '%00' || garbage === 'long', mutation: `path ${p.name} ${garbage}` };
  }
  return { path: op.path.replace(/\{(\w+)\}/g, (_, name: string) => ids[name] ?? 'x'), ...broken };
}

/** The query, `?…` or empty. */
export function queryOf(op: FuzzOperation, resolve: Resolve, query: Parts['query'], ch: Choice): Broken & { search: string } {
  let pairs = query.map(([k, v]) => [encodeLoose(k), encodeLoose(v)]);
  let broken: Broken = { refuse: false };
  if (ch.target === 'query') {
    const p = pickOf(op.query, ch.nodePick);
    const current = query.find(([k]) => k === p.name)?.[1] ?? '';
    const others = pairs.filter(([k]) => k !== p.name);
    const shape = ch.pick % 6;
    if (shape === 0) {
      // Duplicate parameter: which one wins is the server's choice, but never a 500.
      pairs = [...others, [p.name, encodeLoose(current)], [p.name, encodeLoose(current || 'x')]];
      broken = { refuse: false, mutation: `query ${p.name} twice` };
    } else if (shape === 1) {
      const garbage = pickOf(ENCODED_GARBAGE, ch.garbagePick);
      pairs = [...others, [p.name, spliceEncoded(current, garbage)]];
      broken = { refuse: garbage === '%00', mutation: `query ${p.name} with ${garbage}` };
    } else if (shape === 2) {
      const text = pickOf(
        ['1e308', '-0', 'NaN', 'Infinity', '18446744073709551616', '0x10', '', ' 1', '1_000', '[]', '{}', 'null', 'true'],
        ch.garbagePick,
      );
      pairs = [...others, [p.name, encodeLoose(text)]];
      broken = {
        refuse: definitelyRefuses(resolve(p.schema), coerced(resolve(p.schema), text)),
        mutation: `query ${p.name}=${JSON.stringify(text)}`,
      };
    } else if (shape === 3) {
      const value = insertInto(current, pickOf([...SURROGATES, '\u0000', ...CONTROL], ch.garbagePick));
      pairs = [...others, [p.name, encodeLoose(value)]];
      broken = {
        refuse: value.includes('\u0000'),
        mutation: `query ${p.name} with ${JSON.stringify(value.slice(Math.max(0, value.length / 2 - 2)).slice(0, 4))}`,
      };
    } else if (shape === 4) {
      const value = 'a'.repeat(8_000);
      pairs = [...others, [p.name, value]];
      broken = {
        refuse: definitelyRefuses(resolve(p.schema), coerced(resolve(p.schema), value)),
        mutation: `query ${p.name} 8000 characters`,
      };
    } else {
      pairs = [...pairs, [`${p.name}[]`, '1'], ['zz_unknown', '1'], [`${p.name}%5B0%5D`, '2']];
      broken = { refuse: false, mutation: `query array forms of ${p.name}` };
    }
  }
  return { search: pairs.length > 0 ? `?${pairs.map(([k, v]) => `${k}=${v}`).join('&')}` : '', ...broken };
}
