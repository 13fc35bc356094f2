// Versions as the query language compares them: dotted whole numbers, segment by segment, a
// shorter version before a longer one it starts (2.1 < 2.1.0), as PostgreSQL orders numeric[]
// (the compiler casts the same way). Anything else is not a version and matches no comparison.
import { VERSION_PATTERN } from './fields.ts';

export function versionSegments(v: string | null | undefined): bigint[] | undefined {
  if (v == null || !VERSION_PATTERN.test(v)) return undefined;
  return v.split('.').map((s) => BigInt(s));
}

export function compareVersions(a: readonly bigint[], b: readonly bigint[]): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! < b[i]! ? -1 : 1;
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}
