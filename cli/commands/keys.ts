// keys rotations … (a campaign kind, cli/commands/campaigns.ts) and keys approvals list | get |
// approve | reject: the dual-control requests of /v1/key-vault/requests. Their answers are open
// objects in the API's schema (`{}` with any fields), so the tables read the fields they show
// with type guards and `--json` prints the answer whole.
import { readFileSync } from 'node:fs';
import { keyRotationParams } from '../../server/keys/keyRotationKind.ts';
import { limitOf, parseCommand, positionals, type Command, type Group } from '../context.ts';
import { formatRecord, shown } from '../output.ts';
import { campaignGroup } from './campaigns.ts';

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const itemsOf = (v: unknown): Record<string, unknown>[] => (isRecord(v) && Array.isArray(v.items) ? v.items.filter(isRecord) : []);

const list: Command = {
  summary: 'dual-control requests, newest first (master-key replacement and import, BDK import and generation)',
  usage: 'posfleet keys approvals list [--limit N] [--cursor C] [--json]',
  async run(ctx, args) {
    const { values } = parseCommand(args, { limit: { type: 'string' }, cursor: { type: 'string' } }, this.usage);
    const got = await ctx
      .client()
      .request('GET', '/v1/key-vault/requests', { query: { limit: limitOf(values.limit, this.usage), cursor: values.cursor } });
    if (ctx.json) return ctx.out.json(got);
    ctx.out.table(itemsOf(got), [
      { header: 'id', value: (r) => shown(r.id) },
      { header: 'action', value: (r) => shown(r.action) },
      { header: 'state', value: (r) => shown(r.state) },
      { header: 'requested by', value: (r) => shown(r.requestedBy) },
      { header: 'expires', value: (r) => shown(r.expiresAt) },
      { header: 'reason', value: (r) => shown(r.reason) },
    ]);
    if (isRecord(got) && typeof got.nextCursor === 'string') ctx.out.note(`more: add --cursor ${got.nextCursor}`);
  },
};

const get: Command = {
  summary: 'one dual-control request and its progress',
  usage: 'posfleet keys approvals get <id> [--json]',
  async run(ctx, args) {
    const [id] = positionals(parseCommand(args, {}, this.usage).positionals, 1, this.usage);
    const got = await ctx.client().request('GET', `/v1/key-vault/requests/${encodeURIComponent(id!)}`);
    if (ctx.json || !isRecord(got)) return ctx.out.json(got);
    for (const l of formatRecord(got)) ctx.out.line(l);
  },
};

const approve: Command = {
  summary: 'approve a request as the second admin (an import takes key component 2 from a file, never the command line)',
  usage: 'posfleet keys approvals approve <id> [--component-file FILE] [--json]',
  async run(ctx, args) {
    const { values, positionals: ids } = parseCommand(args, { 'component-file': { type: 'string' } }, this.usage);
    const [id] = positionals(ids, 1, this.usage);
    const file = values['component-file'];
    const body = file ? { component: readFileSync(file === '-' ? 0 : file, 'utf8').trim() } : undefined;
    const got = await ctx.client().request('POST', `/v1/key-vault/requests/${encodeURIComponent(id!)}/approve`, { body });
    if (ctx.json || !isRecord(got)) return ctx.out.json(got);
    ctx.out.line(`request ${shown(got.id)} (${shown(got.action)}): ${shown(got.state)}`);
  },
};

const reject: Command = {
  summary: 'reject a request (its sealed input is wiped)',
  usage: 'posfleet keys approvals reject <id> [--json]',
  async run(ctx, args) {
    const [id] = positionals(parseCommand(args, {}, this.usage).positionals, 1, this.usage);
    const got = await ctx.client().request('POST', `/v1/key-vault/requests/${encodeURIComponent(id!)}/reject`);
    if (ctx.json || !isRecord(got)) return ctx.out.json(got);
    ctx.out.line(`request ${shown(got.id)} (${shown(got.action)}): ${shown(got.state)}`);
  },
};

export const keysGroup: Group = {
  summary: 'keys: rotations (campaigns) and dual-control approvals',
  commands: {
    rotations: campaignGroup(
      {
        words: 'keys rotations',
        noun: 'key rotation',
        routeNoun: 'keyRotation',
        basePath: '/v1/key-rotations',
        paramsShape: keyRotationParams.shape,
      },
      'key rotations: create -f, list, get, start, pause, resume, cancel, watch, devices',
    ),
    approvals: { summary: 'dual-control requests: list, get, approve, reject', commands: { list, get, approve, reject } },
  },
};
