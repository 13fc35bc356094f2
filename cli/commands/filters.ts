// filters list | preview | create (docs/cli.md "Groups and filters"): saved fleet queries and a
// query's live count and sample. A query the server refuses (query_invalid) is shown with its
// character at the refused position marked and what was expected there, before the error line.
import { z } from 'zod';
import { ApiError } from '../../client/apiClient.ts';
import { matchPreview, savedFilter } from '../../server/groups/filterRoutes.ts';
import { page } from '../../server/http/schemas.ts';
import { limitOf, parseCommand, type Command, type Ctx, type Group } from '../context.ts';
import { UsageError } from '../errors.ts';
import { hintNext } from './paging.ts';

// The details of a query_invalid refusal (docs/groups-and-filters.md "Errors").
const queryRefusal = z.object({ position: z.number().int().min(0), expected: z.string() });

/** The query, a caret under the refused character, and what was expected there. */
export function queryErrorLines(query: string, details: unknown): string[] {
  const d = queryRefusal.safeParse(details);
  if (!d.success) return [];
  return [`  ${query}`, `  ${' '.repeat(Math.min(d.data.position, query.length))}^ at ${d.data.position}: expected ${d.data.expected}`];
}

async function withQueryShown<T>(ctx: Ctx, query: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (err instanceof ApiError && err.code === 'query_invalid') for (const l of queryErrorLines(query, err.details)) ctx.out.note(l);
    throw err;
  }
}

const list: Command = {
  summary: "saved filters of the caller's subtree",
  usage: 'posfleet filters list [--limit N] [--cursor C] [--json]',
  async run(ctx, args) {
    const { values } = parseCommand(args, { limit: { type: 'string' }, cursor: { type: 'string' } }, this.usage);
    const got = await ctx
      .client()
      .call(page(savedFilter), 'GET', '/v1/filters', { query: { limit: limitOf(values.limit, this.usage), cursor: values.cursor } });
    if (ctx.json) ctx.out.json(got);
    else
      ctx.out.table(got.items, [
        { header: 'id', value: (f) => f.id },
        { header: 'name', value: (f) => f.name },
        { header: 'org', value: (f) => f.orgId },
        { header: 'query', value: (f) => f.canonical },
      ]);
    hintNext(ctx, got);
  },
};

const preview: Command = {
  summary: 'how many terminals a fleet query matches now, and the first 10 by serial (nothing saved)',
  usage: 'posfleet filters preview --query "…" [--json]',
  async run(ctx, args) {
    const { values, positionals: rest } = parseCommand(args, { query: { type: 'string' } }, this.usage);
    const query = values.query;
    if (!query || rest.length) throw new UsageError(this.usage);
    const got = await withQueryShown(ctx, query, () => ctx.client().call(matchPreview, 'POST', '/v1/filters/preview', { body: { query } }));
    if (ctx.json) return ctx.out.json(got);
    ctx.out.line(`${got.count} terminals match ${got.canonical}`);
    ctx.out.table(got.sample, [
      { header: 'serial', value: (d) => d.serial },
      { header: 'id', value: (d) => d.id },
      { header: 'model', value: (d) => d.model },
      { header: 'status', value: (d) => d.status },
      { header: 'online', value: (d) => (d.online ? 'yes' : 'no') },
    ]);
  },
};

const create: Command = {
  summary: 'save a filter: a name and a fleet query, checked now',
  usage: 'posfleet filters create --name NAME --query "…" [--description TEXT] [--json]',
  async run(ctx, args) {
    const { values, positionals: rest } = parseCommand(
      args,
      { name: { type: 'string' }, query: { type: 'string' }, description: { type: 'string' } },
      this.usage,
    );
    const { name, query, description } = values;
    if (!name || !query || rest.length) throw new UsageError(this.usage);
    const got = await withQueryShown(ctx, query, () =>
      ctx.client().call(savedFilter, 'POST', '/v1/filters', { body: { name, query, description } }),
    );
    if (ctx.json) return ctx.out.json(got);
    ctx.out.line(`filter ${got.id} (${got.name}) saved: ${got.canonical}`);
  },
};

export const filtersGroup: Group = { summary: 'saved filters: list, preview, create', commands: { list, preview, create } };
