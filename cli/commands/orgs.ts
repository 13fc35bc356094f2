// orgs list | create | allocate (docs/cli.md "Organisations"): the caller's subtree of the
// organisation tree, a node made below one of it, and unbound terminals moved to a node in bulk.
import { allocationOut, orgOut } from '../../server/orgs/orgSchemas.ts';
import { page } from '../../server/http/schemas.ts';
import { limitOf, parseCommand, positionals, type Command, type Group } from '../context.ts';
import { exitCodes, OutcomeError, UsageError } from '../errors.ts';
import { hintNext } from './paging.ts';
import { listOf } from './packageFiles.ts';

const list: Command = {
  summary: "the caller's subtree, its own node first, a parent before its children",
  usage: 'posfleet orgs list [--parent ID] [--limit N] [--cursor C] [--json]',
  async run(ctx, args) {
    const { values } = parseCommand(
      args,
      { parent: { type: 'string' }, limit: { type: 'string' }, cursor: { type: 'string' } },
      this.usage,
    );
    const got = await ctx.client().call(page(orgOut), 'GET', '/v1/orgs', {
      query: { parentId: values.parent, limit: limitOf(values.limit, this.usage), cursor: values.cursor },
    });
    if (ctx.json) ctx.out.json(got);
    else
      ctx.out.table(got.items, [
        { header: 'name', value: (o) => o.name },
        { header: 'id', value: (o) => o.id },
        { header: 'parent', value: (o) => o.parentId },
        { header: 'depth', value: (o) => o.depth },
        { header: 'users', value: (o) => o.counts.users },
        { header: 'merchants', value: (o) => o.counts.merchants },
        { header: 'terminals', value: (o) => o.counts.terminals },
      ]);
    hintNext(ctx, got);
  },
};

const create: Command = {
  summary: "create a node below a node of the caller's subtree (admin)",
  usage: 'posfleet orgs create --name NAME [--parent ID] [--json]',
  async run(ctx, args) {
    const { values, positionals: rest } = parseCommand(args, { name: { type: 'string' }, parent: { type: 'string' } }, this.usage);
    if (!values.name || rest.length) throw new UsageError(this.usage);
    const got = await ctx.client().call(orgOut, 'POST', '/v1/orgs', { body: { name: values.name, parentId: values.parent } });
    if (ctx.json) return ctx.out.json(got);
    ctx.out.line(`organisation ${got.id} (${got.name}) created under ${got.parentId ?? '-'}`);
  },
};

const allocate: Command = {
  summary: 'move unbound terminals to a node (a bound one moves only with its merchant); exit 1 if any was refused',
  usage: 'posfleet orgs allocate <orgId> (--devices ID,… | --serials S,…) [--json]',
  async run(ctx, args) {
    const { values, positionals: ids } = parseCommand(args, { devices: { type: 'string' }, serials: { type: 'string' } }, this.usage);
    const [orgId] = positionals(ids, 1, this.usage);
    if ((values.devices === undefined) === (values.serials === undefined))
      throw new UsageError(`name the terminals with one of --devices or --serials\n  ${this.usage}`);
    const asked = listOf(values.devices ?? values.serials ?? '');
    if (!asked.length) throw new UsageError(`no terminal named\n  ${this.usage}`);
    const body = values.devices !== undefined ? { deviceIds: asked } : { serials: asked };
    const got = await ctx.client().call(allocationOut, 'POST', `/v1/orgs/${encodeURIComponent(orgId!)}/allocations`, { body });
    if (ctx.json) ctx.out.json(got);
    else {
      const refusals = new Map(got.refused.map((r) => [r.id, r.code]));
      ctx.out.table(asked, [
        { header: values.devices !== undefined ? 'device' : 'serial', value: (id) => id },
        { header: 'result', value: (id) => (refusals.has(id) ? `refused: ${refusals.get(id)}` : 'moved') },
      ]);
    }
    if (got.refused.length)
      throw new OutcomeError(`${got.moved} moved to ${orgId}, ${got.refused.length} refused`, exitCodes.outcomeFailed);
    ctx.out.note(`${got.moved} moved to ${orgId}`);
  },
};

export const orgsGroup: Group = { summary: 'organisations: list, create, allocate', commands: { list, create, allocate } };
