// The commands of a campaign kind under its path: rollouts (/v1/rollouts) and key rotations
// (/v1/key-rotations) share create -f, list, get, start|pause|resume|cancel, watch and devices.
import { readFileSync } from 'node:fs';
import type { z } from 'zod';
import { campaignDeviceStates } from '../../schemas/campaigns.ts';
import { campaignView, failuresView, memberView } from '../../server/campaigns/campaignRoutes.ts';
import { page } from '../../server/http/schemas.ts';
import { limitOf, parseCommand, positionals, type Command, type Ctx, type Group } from '../context.ts';
import { exitCodes, OutcomeError, UsageError } from '../errors.ts';
import { formatRecord, shown, type Column } from '../output.ts';
import { progressOf } from './campaignProgress.ts';
import { hintNext } from './paging.ts';

export interface CampaignKindCli {
  /** The words before the verb: `rollouts`, `keys rotations`. */
  words: string;
  /** What one is called in messages: `rollout`, `key rotation`. */
  noun: string;
  /** The route's noun (its OpenAPI schema name): `rollout`, `keyRotation`. */
  routeNoun: string;
  basePath: string;
  /** The kind's own create fields (server/firmware/firmwareKind.ts, server/keys/keyRotationKind.ts). */
  paramsShape: Record<string, z.ZodType>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const isMemberState = (s: string): s is (typeof campaignDeviceStates)[number] => campaignDeviceStates.some((x) => x === s);

export function readJsonFile(path: string): unknown {
  const text = readFileSync(path === '-' ? 0 : path, 'utf8');
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new UsageError(`${path === '-' ? 'stdin' : path} is not JSON (${cause instanceof Error ? cause.message : String(cause)})`);
  }
}

export function campaignGroup(k: CampaignKindCli, summary: string): Group {
  const view = campaignView(k.routeNoun, k.paramsShape);
  const viewPage = page(view);
  const memberPage = page(memberView);
  type View = z.infer<typeof view>;
  const cmd = `posfleet ${k.words}`;

  const show = (ctx: Ctx, v: View) => {
    if (ctx.json) return ctx.out.json(v);
    const { phases, counts, ...rest } = v;
    for (const l of formatRecord(rest)) ctx.out.line(l);
    ctx.out.line(`counts  ${shown(counts)}`);
    ctx.out.table(phases, [
      { header: 'phase', value: (p) => `${p.index + 1} ${p.name}` },
      { header: 'percent', value: (p) => p.percent },
      { header: 'started', value: (p) => (p.started ? 'yes' : 'no') },
      { header: 'devices', value: (p) => p.devices },
      { header: 'succeeded', value: (p) => p.succeeded },
      { header: 'errors', value: (p) => p.errors },
      { header: 'passed', value: (p) => (p.passed ? 'yes' : 'no') },
    ]);
  };

  const oneId = (args: string[], usage: string) => positionals(parseCommand(args, {}, usage).positionals, 1, usage)[0]!;

  const create: Command = {
    summary: `create a ${k.noun} (draft) from a JSON file: the body of POST ${k.basePath}`,
    usage: `${cmd} create -f SPEC.json (or -f - for stdin) [--json]`,
    async run(ctx, args) {
      const { values, positionals: rest } = parseCommand(args, { file: { type: 'string', short: 'f' } }, this.usage);
      if (!values.file || rest.length) throw new UsageError(this.usage);
      const created = await ctx.client().call(view, 'POST', k.basePath, { body: readJsonFile(values.file) });
      if (ctx.json) return ctx.out.json(created);
      ctx.out.line(`${k.noun} ${created.id} created (${created.state}); start it with: ${cmd} start ${created.id}`);
    },
  };

  const list: Command = {
    summary: `${k.noun}s, newest first`,
    usage: `${cmd} list [--limit N] [--cursor C] [--json]`,
    async run(ctx, args) {
      const { values } = parseCommand(args, { limit: { type: 'string' }, cursor: { type: 'string' } }, this.usage);
      const got = await ctx
        .client()
        .call(viewPage, 'GET', k.basePath, { query: { limit: limitOf(values.limit, this.usage), cursor: values.cursor } });
      if (ctx.json) ctx.out.json(got);
      else
        ctx.out.table(got.items, [
          { header: 'id', value: (v) => v.id },
          { header: 'name', value: (v) => v.name },
          { header: 'state', value: (v) => v.state },
          { header: 'progress', value: (v) => progressOf(v, false).text.replace(/^\S+ ?/, '') },
          { header: 'created', value: (v) => v.createdAt },
        ]);
      hintNext(ctx, got);
    },
  };

  const get: Command = {
    summary: `one ${k.noun} with per-phase counts`,
    usage: `${cmd} get <id> [--json]`,
    async run(ctx, args) {
      const id = oneId(args, this.usage);
      show(ctx, await ctx.client().call(view, 'GET', `${k.basePath}/${encodeURIComponent(id)}`));
    },
  };

  const control = (verb: 'start' | 'pause' | 'resume' | 'cancel'): Command => ({
    summary: `${verb} a ${k.noun}`,
    usage: `${cmd} ${verb} <id> [--json]`,
    async run(ctx, args) {
      const id = oneId(args, this.usage);
      const v = await ctx.client().call(view, 'POST', `${k.basePath}/${encodeURIComponent(id)}/${verb}`);
      if (ctx.json) return ctx.out.json(v);
      ctx.out.line(`${k.noun} ${v.id}: ${v.state}`);
    },
  });

  const watch: Command = {
    summary: `follow a ${k.noun} until it ends (exit 0 succeeded, 1 failed or cancelled)`,
    usage: `${cmd} watch <id> [--interval MS] [--json]`,
    async run(ctx, args) {
      const { values, positionals: ids } = parseCommand(args, { interval: { type: 'string', default: '1000' } }, this.usage);
      const [id] = positionals(ids, 1, this.usage);
      const interval = Number(values.interval);
      if (!Number.isInteger(interval) || interval < 100) throw new UsageError(`--interval is at least 100 (ms)\n  ${this.usage}`);
      const api = ctx.client();
      const bar = ctx.out.isTty && !ctx.json;
      let last = '';
      for (;;) {
        const v = await api.call(view, 'GET', `${k.basePath}/${encodeURIComponent(id!)}`);
        const p = progressOf(v, bar);
        if (p.text !== last) {
          if (ctx.json) ctx.out.line(JSON.stringify(v));
          else if (bar) ctx.out.status(p.text);
          else ctx.out.line(`${new Date().toISOString()} ${p.text}`);
          last = p.text;
        }
        if (p.done) {
          ctx.out.endStatus();
          const line = `${k.noun} ${v.id} ${v.state}: ${p.succeeded}/${p.total} succeeded, ${p.errors} failed`;
          if (v.state !== 'succeeded') throw new OutcomeError(line, exitCodes.outcomeFailed);
          if (!ctx.json) ctx.out.line(line);
          return;
        }
        await sleep(interval);
      }
    },
  };

  const members: Command = {
    summary: `devices of a ${k.noun} and their states (why each failed)`,
    usage: `${cmd} devices <id> [--state STATE] [--error-code CODE] [--phase N] [--limit N] [--cursor C] [--json]`,
    async run(ctx, args) {
      const { values, positionals: ids } = parseCommand(
        args,
        {
          state: { type: 'string' },
          'error-code': { type: 'string' },
          phase: { type: 'string' },
          limit: { type: 'string' },
          cursor: { type: 'string' },
        },
        this.usage,
      );
      const [id] = positionals(ids, 1, this.usage);
      if (values.state !== undefined && !isMemberState(values.state))
        throw new UsageError(`--state is one of ${campaignDeviceStates.join(', ')}`);
      const got = await ctx.client().call(memberPage, 'GET', `${k.basePath}/${encodeURIComponent(id!)}/devices`, {
        query: {
          state: values.state,
          errorCode: values['error-code'],
          phase: values.phase,
          limit: limitOf(values.limit, this.usage),
          cursor: values.cursor,
        },
      });
      if (ctx.json) ctx.out.json(got);
      else {
        const columns: Column<(typeof got.items)[number]>[] = [
          { header: 'device', value: (m) => m.deviceId },
          { header: 'serial', value: (m) => m.serial },
          { header: 'phase', value: (m) => m.phase + 1 },
          { header: 'state', value: (m) => m.state },
          { header: 'attempt', value: (m) => m.attempt },
          { header: 'error', value: (m) => (m.error ? `${m.error.code}: ${m.error.message}` : (m.note ?? '')) },
        ];
        ctx.out.table(got.items, columns);
      }
      hintNext(ctx, got);
    },
  };

  const failures: Command = {
    summary: `why devices of a ${k.noun} failed: failed members counted by error.code`,
    usage: `${cmd} failures <id> [--json]`,
    async run(ctx, args) {
      const id = oneId(args, this.usage);
      const got = await ctx.client().call(failuresView, 'GET', `${k.basePath}/${encodeURIComponent(id)}/failures`);
      if (ctx.json) return ctx.out.json(got);
      ctx.out.line(`${got.total} failed`);
      ctx.out.table(got.byCode, [
        { header: 'code', value: (f) => f.code },
        { header: 'count', value: (f) => f.count },
        { header: 'example message', value: (f) => f.message },
      ]);
      if (got.byCode.length) ctx.out.note(`the terminals of one code: ${cmd} devices ${id} --error-code CODE`);
    },
  };

  return {
    summary,
    commands: {
      create,
      list,
      get,
      start: control('start'),
      pause: control('pause'),
      resume: control('resume'),
      cancel: control('cancel'),
      watch,
      devices: members,
      failures,
    },
  };
}
