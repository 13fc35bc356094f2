// devices list | get | import | export (docs/cli.md "Devices").
import { readFileSync } from 'node:fs';
import { ApiError, type Query } from '../../client/apiClient.ts';
import { deviceStatuses } from '../../schemas/db.ts';
import { device, importReport } from '../../server/devices/deviceRoutes.ts';
import { page } from '../../server/http/schemas.ts';
import { limitOf, parseCommand, positionals, type Ctx, type Group } from '../context.ts';
import { UsageError } from '../errors.ts';
import { formatRecord, shown, type Column } from '../output.ts';
import { queryParamsOf } from './openapiParams.ts';
import { exportFormatOf, streamExport } from './exportStream.ts';
import { hintNext } from './paging.ts';

const devicePage = page(device);
type Device = ReturnType<typeof device.parse>;

const columns: Column<Device>[] = [
  { header: 'serial', value: (d) => d.serial },
  { header: 'id', value: (d) => d.id },
  { header: 'model', value: (d) => d.model },
  { header: 'status', value: (d) => d.status },
  { header: 'online', value: (d) => (d.online ? 'yes' : 'no') },
  { header: 'firmware', value: (d) => shown(d.fwVersion) },
  { header: 'merchant', value: (d) => d.merchantId },
];

const isStatus = (s: string): s is (typeof deviceStatuses)[number] => deviceStatuses.some((x) => x === s);

/** `k=v` pairs of --label as clauses of the fleet query language (docs/groups-and-filters.md). */
export function labelClauses(labels: readonly string[]): string[] {
  return labels.map((kv) => {
    const eq = kv.indexOf('=');
    const key = kv.slice(0, eq);
    if (eq < 1 || !/^[A-Za-z0-9_.-]+$/.test(key)) throw new UsageError(`--label takes key=value, got "${kv}"`);
    return `label.${key} = ${JSON.stringify(kv.slice(eq + 1))}`;
  });
}

/** --query and --label as one fleet query, when the server's `path` takes one (else a usage error, not a filter the server would drop). */
async function fleetQueryOf(ctx: Ctx, query: string | undefined, labels: string[] | undefined, path: string): Promise<string | undefined> {
  const clauses = [...(query ? [`(${query})`] : []), ...labelClauses(labels ?? [])];
  if (!clauses.length) return undefined;
  if (!(await queryParamsOf(ctx, path)).has('query')) {
    throw new UsageError(
      `--query and --label need a server whose GET ${path} takes \`query\` (the fleet query language); this one does not`,
    );
  }
  return clauses.join(' and ');
}

const listUsage =
  'posfleet devices list [--model M] [--status S] [--merchant ID] [--online true|false] [--search TEXT] [--label k=v]... [--query "…"] [--limit N] [--cursor C] [--json]';
const list = {
  summary: 'list terminals with filters',
  usage: listUsage,
  async run(ctx: Ctx, args: string[]) {
    const { values } = parseCommand(
      args,
      {
        model: { type: 'string' },
        status: { type: 'string' },
        merchant: { type: 'string' },
        online: { type: 'string' },
        search: { type: 'string' },
        label: { type: 'string', multiple: true },
        query: { type: 'string' },
        limit: { type: 'string' },
        cursor: { type: 'string' },
      },
      listUsage,
    );
    if (values.status !== undefined && !isStatus(values.status)) throw new UsageError(`--status is one of ${deviceStatuses.join(', ')}`);
    if (values.online !== undefined && values.online !== 'true' && values.online !== 'false')
      throw new UsageError('--online is true or false');
    const query = await fleetQueryOf(ctx, values.query, values.label, '/v1/devices');
    const got = await ctx.client().call(devicePage, 'GET', '/v1/devices', {
      query: {
        model: values.model,
        status: values.status,
        merchantId: values.merchant,
        online: values.online,
        q: values.search,
        query,
        limit: limitOf(values.limit, listUsage),
        cursor: values.cursor,
      },
    });
    if (ctx.json) ctx.out.json(got);
    else ctx.out.table(got.items, columns);
    hintNext(ctx, got);
  },
};

const DEVICE_ID = /^dev_[A-Za-z0-9_-]{16}$/;

/** A device by id, or by its exact serial (the list's free-text search, then an exact match). */
async function deviceByIdOrSerial(ctx: Ctx, key: string): Promise<Device> {
  const api = ctx.client();
  if (DEVICE_ID.test(key)) return api.call(device, 'GET', `/v1/devices/${encodeURIComponent(key)}`);
  const found = await api.call(devicePage, 'GET', '/v1/devices', { query: { q: key, limit: 500 } });
  const hit = found.items.find((d) => d.serial === key);
  if (!hit) throw new ApiError(404, 'not_found', `no terminal with id or serial "${key}"`);
  return api.call(device, 'GET', `/v1/devices/${encodeURIComponent(hit.id)}`);
}

const getUsage = 'posfleet devices get <id|serial> [--json]';
const get = {
  summary: 'one terminal with its live state',
  usage: getUsage,
  async run(ctx: Ctx, args: string[]) {
    const [key] = positionals(parseCommand(args, {}, getUsage).positionals, 1, getUsage);
    const d = await deviceByIdOrSerial(ctx, key!);
    if (ctx.json) ctx.out.json(d);
    else for (const l of formatRecord(d)) ctx.out.line(l);
  },
};

const importUsage = 'posfleet devices import <file.csv> [--json]   (header: serial,model[,label columns])';
const importCmd = {
  summary: 'pre-register terminals from a CSV file',
  usage: importUsage,
  async run(ctx: Ctx, args: string[]) {
    const [file] = positionals(parseCommand(args, {}, importUsage).positionals, 1, importUsage);
    const text = readFileSync(file!, 'utf8');
    const report = await ctx.client().call(importReport, 'POST', '/v1/devices/import', { content: { type: 'text/csv', data: text } });
    if (ctx.json) return ctx.out.json(report);
    ctx.out.line(`created ${report.created}, skipped ${report.skipped.length}, errors ${report.errors.length}`);
    for (const s of report.skipped) ctx.out.line(`  line ${s.line}: skipped ${s.serial}: ${s.reason}`);
    for (const e of report.errors) ctx.out.line(`  line ${e.line}: ${e.message}`);
  },
};

const exportUsage =
  'posfleet devices export [--format csv|json] [-o FILE] [--model M] [--status S] [--merchant ID] [--online true|false] [--search TEXT] [--label k=v]... [--query "…"]   (json: NDJSON, one terminal per line)';
const exportCmd = {
  summary: 'every terminal as CSV or JSON',
  usage: exportUsage,
  async run(ctx: Ctx, args: string[]) {
    const { values } = parseCommand(
      args,
      {
        format: { type: 'string', default: 'csv' },
        output: { type: 'string', short: 'o' },
        model: { type: 'string' },
        status: { type: 'string' },
        merchant: { type: 'string' },
        online: { type: 'string' },
        search: { type: 'string' },
        label: { type: 'string', multiple: true },
        query: { type: 'string' },
      },
      exportUsage,
    );
    const format = exportFormatOf(values.format, exportUsage);
    const filter: Query = {
      model: values.model,
      status: values.status,
      merchantId: values.merchant,
      online: values.online,
      q: values.search,
    };
    filter.query = await fleetQueryOf(ctx, values.query, values.label, '/v1/exports/devices');
    await streamExport(ctx, '/v1/exports/devices', filter, format, values.output);
  },
};

export const devicesGroup: Group = {
  summary: 'terminals: list, get, import, export',
  commands: { list, get, import: importCmd, export: exportCmd },
};
