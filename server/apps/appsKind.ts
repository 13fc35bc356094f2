// App deployments as a campaign kind (`apps`, /v1/app-deployments): install, update or uninstall
// one package across a target. What an app.install carries, how its acks read, and which
// terminals are skipped before anything is sent (server/apps/appScreen.ts).
import { z } from 'zod';
import { appResult, packageName, transientAppErrors, type AppInstallPayload } from '../../schemas/apps.ts';
import type { ProgressDeviceState } from '../../schemas/campaigns.ts';
import type { AppRow } from '../../schemas/tables/apps.ts';
import { unprocessable } from '../errors.ts';
import type { CampaignDevice, CampaignKind, CommandSpec, CommandUpdate, OpenCampaign, Verdict } from '../campaigns/campaignKind.ts';
import type { DownloadLinks } from '../firmware/downloadLinks.ts';
import { appActions, screenApp, type AppAction } from './appScreen.ts';
import type { AppService } from './appService.ts';
import type { AppInventoryStore } from './inventory.ts';

export const appParams = z
  .object({
    action: z.enum(appActions),
    /** The package version to install or update to; for uninstall it names the package. */
    appId: z.string().min(1).max(64).optional(),
    /** For uninstall: the package to remove (or give appId). */
    packageName: packageName.optional(),
  })
  .strict();
export type AppParams = z.infer<typeof appParams>;

const stageState: Record<string, ProgressDeviceState> = { downloading: 'downloading', installing: 'installing' };

/** Reads one app.install / app.uninstall update. */
export function judgeApp(u: CommandUpdate, action: AppAction): Verdict {
  const result = u.result ? appResult.safeParse(u.result) : null;
  const reported = result?.success ? (result.data.version ?? undefined) : undefined;
  switch (u.state) {
    case 'received':
      return { outcome: 'progress', state: 'sent' };
    case 'in_progress':
      return { outcome: 'progress', state: stageState[u.stage ?? ''] ?? 'sent', ...(u.progress === null ? {} : { progress: u.progress }) };
    case 'succeeded':
      return { outcome: 'succeeded', ...(reported ? { reported } : {}) };
    case 'failed':
    case 'rejected': {
      const code = u.error?.code ?? 'failed';
      // The terminal had nothing to do: the version was there already, or the package was not.
      if (code === 'already_installed') return { outcome: 'skipped', reason: 'already_installed', ...(reported ? { reported } : {}) };
      if (code === 'not_installed' && action === 'uninstall') return { outcome: 'skipped', reason: 'not_installed' };
      const message = u.error?.message;
      return { outcome: 'failed', code, ...(message ? { message } : {}), transient: transientAppErrors.includes(code) };
    }
    default:
      return { outcome: 'ignore' };
  }
}

export interface AppsKindDeps {
  service: AppService;
  inventory: AppInventoryStore;
  links: DownloadLinks;
  httpUrl(): string;
  linkTtlS: number;
}

export function createAppsKind(deps: AppsKindDeps): CampaignKind<AppParams> {
  const installPayload = (app: AppRow, deviceId: string): AppInstallPayload => ({
    appId: app.id,
    packageName: app.packageName,
    version: app.version,
    url: `${deps.httpUrl()}/v1/apps/${app.id}/content?${deps.links.sign(app.id, deviceId, Date.now() + deps.linkTtlS * 1000)}`,
    sha256: app.sha256,
    manifest: app.manifest,
    signature: app.signature,
  });

  async function packageOf(params: AppParams): Promise<{ app: AppRow | null; name: string }> {
    if (params.appId) {
      const app = await deps.service.byId(params.appId).catch((err: unknown) => {
        throw unprocessable('unknown_app', `app ${params.appId} does not exist`, undefined, { cause: err });
      });
      if (params.packageName && params.packageName !== app.packageName)
        throw unprocessable('app_mismatch', `app ${app.id} is ${app.packageName}, not ${params.packageName}`);
      return { app, name: app.packageName };
    }
    if (params.action !== 'uninstall') throw unprocessable('app_required', `${params.action} needs appId (the package version to install)`);
    if (!params.packageName) throw unprocessable('app_required', 'uninstall needs packageName or appId');
    return { app: null, name: params.packageName };
  }

  return {
    name: 'apps',
    lane: 'apps',
    params: appParams,
    async open(params): Promise<OpenCampaign> {
      const { app, name } = await packageOf(params);
      if (app && params.action !== 'uninstall' && app.state !== 'ready') throw unprocessable('app_not_ready', `app ${app.id} has no content yet`);
      // The inventory as stored now; what a terminal reports to this instance later wins.
      const stored = await deps.inventory.versionsOf(name);
      const installedOn = (d: CampaignDevice): string | null => {
        const heard = deps.inventory.heardVersion(d.deviceId, name);
        return heard !== undefined ? heard : (stored.get(d.deviceId) ?? null);
      };
      const action = params.action;
      const command = (d: CampaignDevice): CommandSpec =>
        action === 'uninstall'
          ? { type: 'app.uninstall', payload: { packageName: name } }
          : { type: 'app.install', payload: installPayload(app!, d.deviceId), ttlS: deps.linkTtlS };
      return {
        summary: action === 'uninstall' ? `uninstall ${name}` : `${action} ${name} ${app!.version}`,
        screen: (d) =>
          screenApp(action, app && action !== 'uninstall' ? app : null, { model: d.model, fwVersion: d.reportedVersion, installed: installedOn(d) }),
        command,
        judge: (u) => judgeApp(u, action),
      };
    },
  };
}
