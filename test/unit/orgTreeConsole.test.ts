// The organisations page's pure parts: the fleet query that picks one node's own terminals out of
// its subtree, the tree's roots and children, and the serials typed in a list.
import { describe, expect, it } from 'vitest';
import { parseQuery } from '../../server/groups/query/parser.ts';
import { childrenOf, nodeTerminalsQuery, rootsOf, serialsOf, type Org } from '../../client/console/views/orgs/orgTree.ts';

const node = (id: string, parentId: string | null, depth: number): Org => ({
  id,
  parentId,
  name: id,
  path: '',
  depth,
  counts: { users: 0, merchants: 0, terminals: 0 },
  createdBy: null,
  createdAt: '2026-01-01T00:00:00.000Z',
});
const agentView = [node('org_a', 'org_root', 1), node('org_a1', 'org_a', 2), node('org_a2', 'org_a', 2), node('org_a11', 'org_a1', 3)];

describe('organisations page parts', () => {
  it('finds the caller’s own node as the root of its subtree, and a node’s direct children', () => {
    expect(rootsOf(agentView).map((n) => n.id)).toEqual(['org_a']);
    expect(childrenOf(agentView, 'org_a').map((n) => n.id)).toEqual(['org_a1', 'org_a2']);
    expect(childrenOf(agentView, 'org_a2')).toEqual([]);
  });

  it('leaves the children’s subtrees out of a node’s terminals, and keeps only unbound ones when asked', () => {
    expect(nodeTerminalsQuery(agentView, 'org_a', false)).toBe('org = "org_a" and not org in ("org_a1", "org_a2")');
    expect(nodeTerminalsQuery(agentView, 'org_a2', true)).toBe('org = "org_a2" and not merchant ~ ""');
    for (const q of [nodeTerminalsQuery(agentView, 'org_a', true), nodeTerminalsQuery(agentView, 'org_a11', false)]) {
      expect(() => parseQuery(q), q).not.toThrow();
    }
  });

  it('reads serials one a line or separated by commas, blanks and repeats dropped', () => {
    expect(serialsOf(' SN-1\nSN-2, SN-3;SN-1\n\n')).toEqual(['SN-1', 'SN-2', 'SN-3']);
    expect(serialsOf('  \n ')).toEqual([]);
  });
});
