// The caller's whole subtree, every page of GET /v1/orgs: the tree, the targets of an allocation
// and the node filter all need every node, and a subtree of agents is hundreds, not millions.
import { useEffect, useState } from 'preact/hooks';
import { page } from '../../../../server/http/schemas.ts';
import { orgOut } from '../../../../server/orgs/orgSchemas.ts';
import { api } from '../../session.ts';
import type { Org } from './orgTree.ts';

const orgPage = page(orgOut);
const LIMIT = 500;

export function useOrgTree(refresh: number) {
  const [nodes, setNodes] = useState<Org[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    let live = true;
    (async () => {
      const all: Org[] = [];
      let cursor: string | undefined;
      do {
        const p = await api.call(orgPage, 'GET', '/v1/orgs', { query: { limit: LIMIT, cursor } });
        all.push(...p.items);
        cursor = p.nextCursor ?? undefined;
      } while (cursor);
      return all;
    })().then(
      (all) => live && (setNodes(all), setError(null)),
      (err: unknown) => live && setError(err),
    );
    return () => {
      live = false;
    };
  }, [refresh]);
  return { nodes, error };
}
