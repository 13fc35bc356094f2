// Firmware rollouts as a campaign kind: what an ota.install carries, how its acks read, and
// what "already done" means (the device reports the target version).
import { z } from 'zod';
import { otaModes, otaResult, transientOtaErrors, type OtaInstallPayload } from '../../schemas/ota.ts';
import type { FirmwareRow } from '../../schemas/tables/firmware.ts';
import { unprocessable } from '../errors.ts';
import type { CampaignSpec, ProgressDeviceState } from '../../schemas/campaigns.ts';
import type { CampaignDevice, CampaignKind, CommandSpec, CommandUpdate, OpenCampaign, Verdict } from '../campaigns/campaignKind.ts';
import type { DownloadLinks } from './downloadLinks.ts';
import type { FirmwareService } from './firmwareService.ts';

export const firmwareParams = z.object({ firmwareId: z.string().min(1).max(64), mode: z.enum(otaModes).default('forced') }).strict();
export type FirmwareParams = z.infer<typeof firmwareParams>;

/** Agent stage → device state (SPEC §4 per-device states). */
const stageState: Record<string, ProgressDeviceState | 'sent'> = {
  checking: 'sent',
  deferred: 'sent',
  downloading: 'downloading',
  verifying: 'downloading',
  installing: 'installing',
  rebooting: 'rebooting',
  selftest: 'rebooting',
  committing: 'rebooting',
};

const rolledBackCodes = ['rolled_back', 'selftest_failed', 'install_failed'];

export function judgeOta(u: CommandUpdate, targetVersion: string, mode: FirmwareParams['mode'], revert: boolean): Verdict {
  const result = u.result ? otaResult.safeParse(u.result) : null;
  const reported = result?.success ? result.data.version : undefined;
  switch (u.state) {
    case 'received':
      return { outcome: 'progress', state: 'sent' };
    case 'in_progress':
      return { outcome: 'progress', state: stageState[u.stage ?? ''] ?? 'sent', ...(u.progress === null ? {} : { progress: u.progress }) };
    case 'deferred':
      return { outcome: 'deferred', reason: u.error?.code ?? 'deferred' };
    case 'succeeded':
      if (revert || mode === 'download_only') return { outcome: 'succeeded', ...(reported ? { reported } : {}) };
      if (reported && reported !== targetVersion)
        return { outcome: 'rolled_back', code: 'rolled_back', message: `device runs ${reported} after the update`, reported };
      if (u.result?.alreadyInstalled === true) return { outcome: 'succeeded', reported: reported ?? targetVersion };
      return { outcome: 'succeeded', reported: reported ?? targetVersion };
    case 'failed':
    case 'rejected': {
      const code = u.error?.code ?? 'failed';
      const message = u.error?.message;
      if (code === 'already_installed') return { outcome: 'skipped', reason: 'already_on_version', reported: targetVersion };
      if (rolledBackCodes.includes(code))
        return { outcome: 'rolled_back', code, ...(message ? { message } : {}), ...(reported ? { reported } : {}) };
      return {
        outcome: 'failed',
        code,
        ...(message ? { message } : {}),
        transient: transientOtaErrors.includes(code),
        ...(reported ? { reported } : {}),
      };
    }
    default:
      return { outcome: 'ignore' };
  }
}

export interface FirmwareKindDeps {
  service: FirmwareService;
  links: DownloadLinks;
  /** Public base URL for links. */
  httpUrl(): string;
  /** Lifetime of a download link (and of the command that carries it). */
  linkTtlS: number;
}

export function createFirmwareKind(deps: FirmwareKindDeps): CampaignKind<FirmwareParams> {
  const payloadFor = (
    fw: FirmwareRow,
    deviceId: string,
    mode: FirmwareParams['mode'],
    spec: Pick<CampaignSpec, 'window'> | undefined,
    rollback: boolean,
  ): OtaInstallPayload => {
    const exp = Date.now() + deps.linkTtlS * 1000;
    return {
      firmwareId: fw.id,
      version: fw.version,
      size: fw.size,
      sha256: fw.sha256,
      manifest: fw.manifest,
      signature: fw.signature,
      url: `${deps.httpUrl()}/v1/firmware/${fw.id}/content?${deps.links.sign(fw.id, deviceId, exp)}`,
      mode: rollback ? 'forced' : mode,
      ...(spec?.window && !rollback ? { window: spec.window } : {}),
      ...(rollback ? { rollback: true } : {}),
    };
  };

  return {
    name: 'firmware',
    lane: 'firmware',
    params: firmwareParams,
    async open(params, _campaignId, spec): Promise<OpenCampaign> {
      const fw = await deps.service.byId(params.firmwareId).catch((err: unknown) => {
        throw unprocessable('unknown_firmware', `firmware ${params.firmwareId} does not exist`, undefined, { cause: err });
      });
      if (fw.state !== 'ready') throw unprocessable('firmware_not_ready', `firmware ${fw.id} has no content yet`);
      const cmd = (payload: OtaInstallPayload): CommandSpec => ({ type: 'ota.install', payload, ttlS: deps.linkTtlS });
      return {
        summary: `${fw.name} ${fw.version}`,
        screen(d: CampaignDevice) {
          if (!fw.models.includes(d.model)) return 'incompatible';
          if (d.reportedVersion === fw.version && params.mode !== 'download_only') return 'already_on_version';
          return null;
        },
        command: (d) => cmd(payloadFor(fw, d.deviceId, params.mode, spec, false)),
        judge: (u, ref) => judgeOta(u, fw.version, params.mode, ref.action === 'revert'),
        async revert(d) {
          if (!d.fromVersion) return { unavailable: 'previous version unknown' };
          if (d.fromVersion === fw.version) return { unavailable: 'already on the previous version' };
          const prev = await deps.service.findVersion(fw.name, d.fromVersion, d.model);
          if (!prev) return { unavailable: `no ready artifact ${fw.name} ${d.fromVersion} for ${d.model}` };
          return cmd(payloadFor(prev, d.deviceId, 'forced', undefined, true));
        },
        isDone: (d) => (params.mode === 'download_only' || !d.reportedVersion ? null : d.reportedVersion === fw.version),
      };
    },
  };
}
