// Canonical JSON: the bytes that get hashed or signed (audit hash chain, firmware manifests).
// RFC 8785 (JCS) for the values posfleet signs: object keys sorted by UTF-16 code units, no
// white space, strings and numbers as ECMAScript JSON.stringify writes them, arrays in order,
// object members whose value is undefined left out. Anything that is not JSON (NaN, a function,
// a bigint, undefined where a value is due) throws: a hash over a silently rewritten value
// could never be checked again. Existing audit chains were hashed with exactly this function.
export function canonicalJson(value: unknown): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return JSON.stringify(value);
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError('canonicalJson: non-finite number');
      return JSON.stringify(value);
    case 'object': {
      if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
      const entries = Object.entries(value)
        .filter(([, v]) => v !== undefined)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
    }
    default:
      throw new TypeError(`canonicalJson: ${typeof value} is not JSON`);
  }
}
