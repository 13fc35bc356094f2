// maintenance list | create | delete (docs/cli.md "Maintenance windows"): the recurring hours per
// merchant, group or organisation in which campaigns may serve a terminal, in its own time zone
// (docs/maintenance-windows.md).
import { maintenanceScopes, newMaintenanceWindow } from '../../schemas/maintenance.ts';
import { MaintenanceWindowSchema } from '../../server/campaigns/maintenanceRoutes.ts';
import { page } from '../../server/http/schemas.ts';
import { limitOf, parseCommand, positionals, type Command, type Group } from '../context.ts';
import { UsageError } from '../errors.ts';
import { hintNext } from './paging.ts';

const list: Command = {
  summary: "maintenance windows of the caller's subtree",
  usage: 'posfleet maintenance list [--limit N] [--cursor C] [--json]',
  async run(ctx, args) {
    const { values } = parseCommand(args, { limit: { type: 'string' }, cursor: { type: 'string' } }, this.usage);
    const got = await ctx
      .client()
      .call(page(MaintenanceWindowSchema), 'GET', '/v1/maintenance-windows', {
        query: { limit: limitOf(values.limit, this.usage), cursor: values.cursor },
      });
    if (ctx.json) ctx.out.json(got);
    else
      ctx.out.table(got.items, [
        { header: 'id', value: (w) => w.id },
        { header: 'scope', value: (w) => `${w.scope} ${w.targetId}` },
        { header: 'days', value: (w) => w.days.join(',') },
        { header: 'hours', value: (w) => `${w.start}-${w.end}` },
        { header: 'name', value: (w) => w.name },
      ]);
    hintNext(ctx, got);
  },
};

const createUsage = `posfleet maintenance create --scope ${maintenanceScopes.join('|')} --target ID --days 1,2,…7 --start HH:MM --end HH:MM [--name N] [--json]`;
const create: Command = {
  summary: 'set a recurring window (days are ISO weekdays, 1 Monday … 7 Sunday; an end before the start runs past midnight)',
  usage: createUsage,
  async run(ctx, args) {
    const { values, positionals: rest } = parseCommand(
      args,
      {
        scope: { type: 'string' },
        target: { type: 'string' },
        days: { type: 'string' },
        start: { type: 'string' },
        end: { type: 'string' },
        name: { type: 'string' },
      },
      createUsage,
    );
    if (rest.length || !values.days) throw new UsageError(createUsage);
    // Checked here with the server's own schema, so a typo is named before anything is sent.
    const body = newMaintenanceWindow.safeParse({
      scope: values.scope,
      targetId: values.target,
      days: values.days.split(',').map((d) => Number(d.trim())),
      start: values.start,
      end: values.end,
      ...(values.name ? { name: values.name } : {}),
    });
    if (!body.success)
      throw new UsageError(`${body.error.issues.map((i) => `${i.path.join('.') || 'window'}: ${i.message}`).join('; ')}\n  ${createUsage}`);
    const got = await ctx.client().call(MaintenanceWindowSchema, 'POST', '/v1/maintenance-windows', { body: body.data });
    if (ctx.json) return ctx.out.json(got);
    ctx.out.line(`window ${got.id}: ${got.scope} ${got.targetId}, days ${got.days.join(',')}, ${got.start}-${got.end}`);
  },
};

const remove: Command = {
  summary: 'remove a window',
  usage: 'posfleet maintenance delete <id>',
  async run(ctx, args) {
    const [id] = positionals(parseCommand(args, {}, this.usage).positionals, 1, this.usage);
    await ctx.client().raw('DELETE', `/v1/maintenance-windows/${encodeURIComponent(id!)}`);
    ctx.out.line(`window ${id} removed`);
  },
};

export const maintenanceGroup: Group = {
  summary: 'maintenance windows: list, create, delete',
  commands: { list, create, delete: remove },
};
