// The pure scoping rules (server/orgs/scope.ts): subtree membership by path prefix, the LIKE
// pattern that must match exactly the prefix (ids contain `_`, a LIKE wildcard), paths and depths.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { childPath, depthOf, inScope, pathIds, seesAll, subtreePattern } from '../../server/orgs/scope.ts';

/** What SQL LIKE with the default escape `\` does, for checking the pattern without a database. */
function likeMatches(value: string, pattern: string): boolean {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern.charAt(i);
    if (c === '\\') re += pattern.charAt(++i).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    else if (c === '%') re += '[\\s\\S]*';
    else if (c === '_') re += '[\\s\\S]';
    else re += c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`).test(value);
}

const idChar = fc.constantFrom(...'abcXYZ019_-%\\'.split(''));
const orgId = fc.array(idChar, { minLength: 1, maxLength: 6 }).map((cs) => `org_${cs.join('')}`);
const orgPath = fc.array(orgId, { minLength: 0, maxLength: 4 }).map((ids) => `/org_root/${ids.map((id) => `${id}/`).join('')}`);

describe('organisation scope rules', () => {
  it('a node sees itself and its descendants, never its parent or a sibling', () => {
    const a = { orgId: 'org_a', orgPath: '/org_root/org_a/' };
    expect(inScope(a, '/org_root/org_a/')).toBe(true);
    expect(inScope(a, '/org_root/org_a/org_a1/')).toBe(true);
    expect(inScope(a, '/org_root/')).toBe(false);
    expect(inScope(a, '/org_root/org_b/')).toBe(false);
    // A sibling whose id starts with A's id is not below A: paths end in `/`.
    expect(inScope(a, '/org_root/org_ab/')).toBe(false);
    expect(seesAll(a)).toBe(false);
    expect(seesAll({ orgId: 'org_root', orgPath: '/org_root/' })).toBe(true);
  });

  it('paths, ids and depths agree', () => {
    expect(pathIds('/org_root/org_a/org_b/')).toEqual(['org_root', 'org_a', 'org_b']);
    expect(depthOf('/org_root/')).toBe(0);
    expect(depthOf(childPath('/org_root/org_a/', 'org_b'))).toBe(2);
  });

  it('the LIKE pattern matches exactly the paths inScope accepts, wildcards in ids included', () => {
    fc.assert(
      fc.property(orgPath, orgPath, (scope, candidate) => {
        expect(likeMatches(candidate, subtreePattern(scope))).toBe(inScope({ orgId: 'x', orgPath: scope }, candidate));
      }),
      { numRuns: 500 },
    );
    // The case a bare pattern gets wrong: `_` in an id matching another character.
    expect(likeMatches('/org_root/orgXa/', subtreePattern('/org_root/org_a/'))).toBe(false);
  });
});
