// faults list | get | ack | resolve (docs/cli.md "Faults"). Filters are the API's: comma-separated
// states, severities and codes are passed on as they are and checked by the server.
import { fault } from '../../server/faults/faultRoutes.ts';
import { page } from '../../server/http/schemas.ts';
import { limitOf, parseCommand, positionals, type Command, type Ctx, type Group } from '../context.ts';
import { UsageError } from '../errors.ts';
import { formatRecord, type Column } from '../output.ts';
import { hintNext } from './paging.ts';

type Fault = ReturnType<typeof fault.parse>;
const columns: Column<Fault>[] = [
  { header: 'id', value: (f) => f.id },
  { header: 'severity', value: (f) => f.severity },
  { header: 'state', value: (f) => f.state },
  { header: 'code', value: (f) => f.code },
  { header: 'device', value: (f) => f.deviceId },
  { header: 'opened', value: (f) => f.openedAt },
  { header: 'title', value: (f) => f.title },
];

const list: Command = {
  summary: 'the fault queue (default: open and acknowledged, worst first)',
  usage:
    'posfleet faults list [--state open,acknowledged|all] [--severity critical,major] [--code C1,C2] [--device ID] [--merchant ID] [--model M] [--assignee me|none|ID] [--sort severity|oldest|newest|updated] [--limit N] [--cursor C] [--json]',
  async run(ctx, args) {
    const { values } = parseCommand(
      args,
      {
        state: { type: 'string' },
        severity: { type: 'string' },
        code: { type: 'string' },
        device: { type: 'string' },
        merchant: { type: 'string' },
        model: { type: 'string' },
        assignee: { type: 'string' },
        sort: { type: 'string' },
        limit: { type: 'string' },
        cursor: { type: 'string' },
      },
      this.usage,
    );
    const got = await ctx.client().call(page(fault), 'GET', '/v1/faults', {
      query: {
        state: values.state,
        severity: values.severity,
        code: values.code,
        deviceId: values.device,
        merchantId: values.merchant,
        model: values.model,
        assignee: values.assignee,
        sort: values.sort,
        limit: limitOf(values.limit, this.usage),
        cursor: values.cursor,
      },
    });
    if (ctx.json) ctx.out.json(got);
    else ctx.out.table(got.items, columns);
    hintNext(ctx, got);
  },
};

const get: Command = {
  summary: 'one fault with its notes',
  usage: 'posfleet faults get <id> [--json]',
  async run(ctx, args) {
    const [id] = positionals(parseCommand(args, {}, this.usage).positionals, 1, this.usage);
    const f = await ctx.client().call(fault, 'GET', `/v1/faults/${encodeURIComponent(id!)}`);
    if (ctx.json) ctx.out.json(f);
    else for (const l of formatRecord(f)) ctx.out.line(l);
  },
};

function printWorked(ctx: Ctx, f: Fault) {
  if (ctx.json) ctx.out.json(f);
  else ctx.out.line(`fault ${f.id} (${f.code} on ${f.deviceId}): ${f.state}`);
}

const ack: Command = {
  summary: 'acknowledge an open fault (someone is on it)',
  usage: 'posfleet faults ack <id>... [--json]',
  async run(ctx, args) {
    const ids = parseCommand(args, {}, this.usage).positionals;
    if (!ids.length) throw new UsageError(this.usage);
    const api = ctx.client();
    for (const id of ids) printWorked(ctx, await api.call(fault, 'POST', `/v1/faults/${encodeURIComponent(id)}/acknowledge`));
  },
};

const resolve: Command = {
  summary: 'resolve faults by hand, optionally with a closing note',
  usage: 'posfleet faults resolve <id>... [--note TEXT] [--json]',
  async run(ctx, args) {
    const { values, positionals: ids } = parseCommand(args, { note: { type: 'string' } }, this.usage);
    if (!ids.length) throw new UsageError(this.usage);
    const api = ctx.client();
    for (const id of ids) {
      printWorked(
        ctx,
        await api.call(fault, 'POST', `/v1/faults/${encodeURIComponent(id)}/resolve`, { body: values.note ? { note: values.note } : {} }),
      );
    }
  },
};

export const faultsGroup: Group = {
  summary: 'the fault queue: list, get, ack, resolve',
  commands: { list, get, ack, acknowledge: ack, resolve },
};
