// The caller's subtree as GET /v1/orgs lists it (path order, a parent before its children), and
// the fleet queries that pick one node's own terminals out of it.
import type { z } from 'zod';
import type { orgOut } from '../../../../server/orgs/orgSchemas.ts';

export type Org = z.infer<typeof orgOut>;

/** The children of `id` among the listed nodes, in list (path) order. */
export const childrenOf = (nodes: Org[], id: string): Org[] => nodes.filter((n) => n.parentId === id);

/** The listed nodes whose parent is not listed: the caller's own node (the first item). */
export const rootsOf = (nodes: Org[]): Org[] => {
  const ids = new Set(nodes.map((n) => n.id));
  return nodes.filter((n) => n.parentId === null || !ids.has(n.parentId));
};

const quoted = (s: string) => `"${s.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;

/**
 * `org = x` in the fleet query language matches x's whole subtree: leaving out its children's
 * subtrees keeps the terminals of x itself; `unbound` keeps those without a merchant, the ones
 * allocation can move.
 */
export function nodeTerminalsQuery(nodes: Org[], id: string, unbound: boolean): string {
  const kids = childrenOf(nodes, id).map((n) => quoted(n.id));
  return [
    `org = ${quoted(id)}`,
    ...(kids.length ? [`not org in (${kids.join(', ')})`] : []),
    ...(unbound ? ['not merchant ~ ""'] : []),
  ].join(' and ');
}

/** The serials typed in a list: one per line, or separated by commas or spaces; blanks and repeats dropped. */
export const serialsOf = (text: string): string[] => [...new Set(text.split(/[\s,;]+/).filter(Boolean))];
