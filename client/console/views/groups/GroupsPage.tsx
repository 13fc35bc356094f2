/** @jsxImportSource preact */
// /ui/groups: the two hand-made ways to name a set of terminals (docs/groups-and-filters.md):
// static groups with their members, and saved filters (fleet queries evaluated on every use).
// The chosen group is kept in the address (?group=) so a shared link opens its members.
import { useEffect, useState } from 'preact/hooks';
import { group } from '../../../../server/groups/groupRoutes.ts';
import { api, isRole } from '../../session.ts';
import { ErrorBox } from '../../ui.tsx';
import type { ViewContext } from '../../viewContract.ts';
import { FilterList } from './FilterList.tsx';
import { GroupList, type Group } from './GroupList.tsx';
import { GroupMembers } from './GroupMembers.tsx';

export function GroupsPage({ ctx }: { ctx: ViewContext }) {
  const [selected, setSelected] = useState<string | null>(ctx.query.get('group'));
  const [refresh, setRefresh] = useState(0);
  const [chosen, setChosen] = useState<Group | null>(null);
  const [error, setError] = useState<unknown>(null);

  useEffect(() => {
    setError(null);
    if (!selected) return setChosen(null);
    api
      .call(group, 'GET', `/v1/groups/${encodeURIComponent(selected)}`)
      .then(setChosen)
      .catch((err: unknown) => {
        setChosen(null);
        setError(err);
      });
  }, [selected, refresh]);

  const select = (id: string | null) => {
    history.replaceState(null, '', id ? `/ui/groups?group=${encodeURIComponent(id)}` : '/ui/groups');
    setSelected(id);
  };
  const changed = () => setRefresh((r) => r + 1);
  // What the server lets only admins and operators do is not offered to the others.
  const canChange = isRole('admin', 'operator');

  return (
    <>
      <p class="lede">
        A static group is a list of terminals kept by hand; a saved filter is a fleet query, so its terminals change as the fleet does. Both
        are targets of rollouts, key rotations and parameter pushes.
      </p>
      {canChange ? null : (
        <p class="note">
          Making and changing groups and saved filters needs the admin or operator role; you can see them and preview queries.
        </p>
      )}
      <GroupList ctx={ctx} canChange={canChange} selected={selected} refresh={refresh} select={select} changed={changed} />
      {error ? <ErrorBox error={error} /> : null}
      {chosen ? <GroupMembers ctx={ctx} canChange={canChange} g={chosen} onChanged={changed} /> : null}
      <FilterList ctx={ctx} canChange={canChange} />
    </>
  );
}
