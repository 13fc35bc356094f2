// groups list | create | members | add | remove (docs/cli.md "Groups and filters"): static groups
// of terminals, their members read by page and changed by device id.
import { group, groupMember, groupMembersChanged } from '../../server/groups/groupRoutes.ts';
import { page } from '../../server/http/schemas.ts';
import { limitOf, parseCommand, positionals, type Command, type Ctx, type Group } from '../context.ts';
import { UsageError } from '../errors.ts';
import { hintNext } from './paging.ts';
import { listOf } from './packageFiles.ts';

const pageFlags = { limit: { type: 'string' }, cursor: { type: 'string' } } as const;

const list: Command = {
  summary: "groups of the caller's subtree, with member counts",
  usage: 'posfleet groups list [--limit N] [--cursor C] [--json]',
  async run(ctx, args) {
    const { values } = parseCommand(args, pageFlags, this.usage);
    const got = await ctx
      .client()
      .call(page(group), 'GET', '/v1/groups', { query: { limit: limitOf(values.limit, this.usage), cursor: values.cursor } });
    if (ctx.json) ctx.out.json(got);
    else
      ctx.out.table(got.items, [
        { header: 'id', value: (g) => g.id },
        { header: 'name', value: (g) => g.name },
        { header: 'members', value: (g) => g.members },
        { header: 'org', value: (g) => g.orgId },
        { header: 'description', value: (g) => g.description },
      ]);
    hintNext(ctx, got);
  },
};

const create: Command = {
  summary: 'create an empty static group',
  usage: 'posfleet groups create --name NAME [--description TEXT] [--json]',
  async run(ctx, args) {
    const { values, positionals: rest } = parseCommand(args, { name: { type: 'string' }, description: { type: 'string' } }, this.usage);
    if (!values.name || rest.length) throw new UsageError(this.usage);
    const got = await ctx.client().call(group, 'POST', '/v1/groups', { body: { name: values.name, description: values.description } });
    if (ctx.json) return ctx.out.json(got);
    ctx.out.line(`group ${got.id} (${got.name}) created; add terminals with: posfleet groups add ${got.id} --devices ID,…`);
  },
};

const members: Command = {
  summary: "a group's terminals, by device id",
  usage: 'posfleet groups members <id> [--limit N] [--cursor C] [--json]',
  async run(ctx, args) {
    const { values, positionals: ids } = parseCommand(args, pageFlags, this.usage);
    const [id] = positionals(ids, 1, this.usage);
    const got = await ctx.client().call(page(groupMember), 'GET', `/v1/groups/${encodeURIComponent(id!)}/members`, {
      query: { limit: limitOf(values.limit, this.usage), cursor: values.cursor },
    });
    if (ctx.json) ctx.out.json(got);
    else
      ctx.out.table(got.items, [
        { header: 'id', value: (m) => m.id },
        { header: 'serial', value: (m) => m.serial },
        { header: 'model', value: (m) => m.model },
        { header: 'status', value: (m) => m.status },
        { header: 'added', value: (m) => m.addedAt },
      ]);
    hintNext(ctx, got);
  },
};

/** `add` and `remove`: one members change of POST /v1/groups/{id}/members. */
function memberChange(verb: 'add' | 'remove'): Command {
  return {
    summary: verb === 'add' ? 'add terminals to a group (one already in it changes nothing)' : 'remove terminals from a group',
    usage: `posfleet groups ${verb} <id> --devices ID,… [--json]`,
    async run(ctx: Ctx, args: string[]) {
      const { values, positionals: ids } = parseCommand(args, { devices: { type: 'string' } }, this.usage);
      const [id] = positionals(ids, 1, this.usage);
      const devices = listOf(values.devices ?? '');
      if (!devices.length) throw new UsageError(this.usage);
      const got = await ctx
        .client()
        .call(groupMembersChanged, 'POST', `/v1/groups/${encodeURIComponent(id!)}/members`, { body: { [verb]: devices } });
      if (ctx.json) return ctx.out.json(got);
      ctx.out.line(`group ${got.id} (${got.name}): ${got.added} added, ${got.removed} removed, ${got.members} members`);
    },
  };
}

export const groupsGroup: Group = {
  summary: 'static groups: list, create, members, add, remove',
  commands: { list, create, members, add: memberChange('add'), remove: memberChange('remove') },
};
