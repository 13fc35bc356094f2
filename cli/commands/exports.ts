// exports faults | keys | audit | campaign <id>: the server's streamed exports (docs/exports.md)
// into a file or stdout, with the API's filters as flags (`--device-id` for `deviceId`). The
// terminals' export is `devices export`, which also takes labels and fleet queries.
import type { Query } from '../../client/apiClient.ts';
import { parseCommand, positionals, type Command, type Group } from '../context.ts';
import { exportFormatOf, streamExport } from './exportStream.ts';

/** `--device-id` → `deviceId`. */
const camel = (flag: string) => flag.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());

function exportCommand(what: string, path: (id: string | undefined) => string, filters: readonly string[], takesId: boolean): Command {
  const flags = filters.map((f) => `[--${f} V]`).join(' ');
  const usage = `posfleet exports ${what}${takesId ? ' <id>' : ''} [--format csv|json] [-o FILE] ${flags}   (json: NDJSON, one row per line)`;
  return {
    summary: `${what}${takesId ? ' of one campaign' : ''}, streamed as CSV or NDJSON`,
    usage,
    async run(ctx, args) {
      const options = Object.fromEntries(filters.map((f) => [f, { type: 'string' as const }]));
      const { values, positionals: rest } = parseCommand(
        args,
        { format: { type: 'string', default: 'csv' }, output: { type: 'string', short: 'o' }, ...options },
        usage,
      );
      const [id] = takesId ? positionals(rest, 1, usage) : positionals(rest, 0, usage);
      const given: Record<string, unknown> = values;
      const query: Query = {};
      for (const f of filters) {
        const v = given[f];
        if (typeof v === 'string') query[camel(f)] = v;
      }
      await streamExport(ctx, path(id), query, exportFormatOf(values.format, usage), values.output);
    },
  };
}

export const exportsGroup: Group = {
  summary: 'streamed exports: faults, keys (KCVs only), audit, campaign results',
  commands: {
    faults: exportCommand(
      'faults',
      () => '/v1/exports/faults',
      ['state', 'severity', 'code', 'serial', 'device-id', 'merchant-id', 'model', 'assignee'],
      false,
    ),
    keys: exportCommand('keys', () => '/v1/exports/keys', ['device-id', 'usage', 'slot', 'state', 'q', 'query'], false),
    audit: exportCommand('audit', () => '/v1/exports/audit', ['action', 'actor-id', 'target', 'since', 'until'], false),
    campaign: exportCommand(
      'campaign',
      (id) => `/v1/exports/campaigns/${encodeURIComponent(id ?? '')}/devices`,
      ['state', 'phase', 'error-code'],
      true,
    ),
  },
};
