// apps deploy: an app deployment (POST /v1/app-deployments) from flags or from a spec file, started
// at once with --start. The flags make the common case one line; the file takes every field of the
// API (rate, window, retries…). The server validates the body either way and answers its own code.
import type { z } from 'zod';
import type { CampaignSpecInput } from '../../schemas/campaigns.ts';
import { appActions, type AppAction } from '../../server/apps/appScreen.ts';
import { appParams } from '../../server/apps/appsKind.ts';
import { campaignView } from '../../server/campaigns/campaignRoutes.ts';
import { parseCommand, type Command } from '../context.ts';
import { UsageError } from '../errors.ts';
import { readJsonFile } from './campaigns.ts';
import { listOf } from './packageFiles.ts';

type DeploymentBody = { name: string } & z.input<typeof appParams> &
  Pick<CampaignSpecInput, 'target' | 'phases' | 'successThreshold' | 'errorThreshold' | 'dynamic'>;

/** The flags `deploy` reads besides -f and --start, as parseArgs gives them. */
export interface DeployFlags {
  name?: string;
  action?: string;
  app?: string;
  package?: string;
  devices?: string;
  group?: string;
  'filter-id'?: string;
  query?: string;
  phases?: string;
  'success-threshold'?: string;
  'error-threshold'?: string;
  dynamic?: boolean;
}

const isAction = (a: string): a is AppAction => appActions.some((x) => x === a);

function percentFlag(raw: string | undefined, flag: string, fallback: number): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(n)) throw new UsageError(`${flag} takes a percent (0-100), not "${raw}"`);
  return n;
}

/** `canary:5,rest:95` → phases; one phase `all` of 100 % when not given. */
function phasesFlag(raw: string | undefined): DeploymentBody['phases'] {
  if (raw === undefined) return [{ name: 'all', percent: 100 }];
  return listOf(raw).map((p) => {
    const at = p.lastIndexOf(':');
    const percent = Number(p.slice(at + 1));
    if (at < 1 || !Number.isFinite(percent)) throw new UsageError(`--phases is NAME:PERCENT,… (canary:5,rest:95), not "${p}"`);
    return { name: p.slice(0, at), percent };
  });
}

function targetFlags(f: DeployFlags): DeploymentBody['target'] {
  const given = [
    f.devices === undefined ? undefined : { deviceIds: listOf(f.devices) },
    f.group === undefined ? undefined : { groupId: f.group },
    f['filter-id'] === undefined ? undefined : { filterId: f['filter-id'] },
    f.query === undefined ? undefined : { query: f.query },
  ].filter((t) => t !== undefined);
  if (given.length !== 1) throw new UsageError('name the terminals with one of --devices ID,… --group ID --filter-id ID --query "…"');
  return given[0]!;
}

/** The create body the flags describe (pure: unit-tested without a server). */
export function deploymentBodyOf(f: DeployFlags): DeploymentBody {
  if (f.action === undefined || !isAction(f.action)) throw new UsageError(`--action is one of ${appActions.join(', ')}`);
  if (f.app === undefined && f.package === undefined)
    throw new UsageError('--app ID (the package version) or --package NAME (uninstall) is needed');
  return {
    name: f.name ?? `${f.action} ${f.app ?? f.package}`,
    action: f.action,
    ...(f.app === undefined ? {} : { appId: f.app }),
    ...(f.package === undefined ? {} : { packageName: f.package }),
    target: targetFlags(f),
    phases: phasesFlag(f.phases),
    successThreshold: percentFlag(f['success-threshold'], '--success-threshold', 95),
    errorThreshold: percentFlag(f['error-threshold'], '--error-threshold', 5),
    ...(f.dynamic ? { dynamic: true } : {}),
  };
}

const view = campaignView('app-deployment', appParams.shape);

export const deployCommand: Command = {
  summary: 'create an app deployment (draft) from flags or a spec file; --start starts it',
  usage:
    'posfleet apps deploy --action install|update|uninstall (--app ID | --package NAME) (--devices ID,… | --group ID | --filter-id ID | --query "…") ' +
    '[--name N] [--phases canary:5,rest:95] [--success-threshold 95] [--error-threshold 5] [--dynamic] [--start] [--json]\n' +
    '  posfleet apps deploy -f SPEC.json (or -f - for stdin) [--start] [--json]',
  async run(ctx, args) {
    const { values, positionals: rest } = parseCommand(
      args,
      {
        file: { type: 'string', short: 'f' },
        start: { type: 'boolean' },
        name: { type: 'string' },
        action: { type: 'string' },
        app: { type: 'string' },
        package: { type: 'string' },
        devices: { type: 'string' },
        group: { type: 'string' },
        'filter-id': { type: 'string' },
        query: { type: 'string' },
        phases: { type: 'string' },
        'success-threshold': { type: 'string' },
        'error-threshold': { type: 'string' },
        dynamic: { type: 'boolean' },
      },
      this.usage,
    );
    const { file, start, ...flags } = values;
    if (rest.length) throw new UsageError(this.usage);
    if (file !== undefined && Object.keys(flags).length)
      throw new UsageError(`-f takes the whole body: no other deployment flags with it\n  ${this.usage}`);
    const body = file === undefined ? deploymentBodyOf(flags) : readJsonFile(file);
    const api = ctx.client();
    const created = await api.call(view, 'POST', '/v1/app-deployments', { body });
    const shown = start ? await api.call(view, 'POST', `/v1/app-deployments/${encodeURIComponent(created.id)}/start`) : created;
    if (ctx.json) return ctx.out.json(shown);
    ctx.out.line(
      start
        ? `app deployment ${shown.id} created and started (${shown.state}); follow it with: posfleet apps deployments watch ${shown.id}`
        : `app deployment ${shown.id} created (${shown.state}); start it with: posfleet apps deployments start ${shown.id}`,
    );
  },
};
