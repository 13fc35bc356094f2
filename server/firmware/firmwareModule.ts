// Firmware OTA: artifacts, downloads, and rollouts (the `firmware` campaign kind).
import { join } from 'node:path';
import { canaryEarlyRestPhases } from '../../schemas/campaigns.ts';
import { registerCampaignRoutes } from '../campaigns/campaignRoutes.ts';
import { idempotency } from '../http/idempotency.ts';
import type { ModuleContext, ServerModule } from '../moduleContract.ts';
import { createDownloadAllowList } from './downloadAllowList.ts';
import { createLocalStorage } from './artifactStorage.ts';
import { createDownloadLinks } from './downloadLinks.ts';
import { createFirmwareKind, firmwareParams } from './firmwareKind.ts';
import { registerFirmwareRoutes } from './firmwareRoutes.ts';
import { createFirmwareService } from './firmwareService.ts';
import { createImageCache } from './imageCache.ts';

export const LINK_TTL_S = 24 * 3600;

export function createFirmwareModule(ctx: ModuleContext): ServerModule {
  const storage = createLocalStorage(join(ctx.sharedDir, 'firmware'));
  const publisherKeys = () =>
    (ctx.config.FIRMWARE_PUBLISHER_KEYS ?? '')
      .split(',')
      .map((k) => k.trim())
      .filter(Boolean);
  const service = createFirmwareService({ db: ctx.db, storage, publisherKeys });
  const images = createImageCache(storage);
  // The link key is derived from the server pepper: stable across restarts and instances.
  const links = createDownloadLinks(Buffer.from(ctx.hasher.hash('posfleet/firmware-download-links/v1'), 'hex'));
  ctx.campaigns.register(createFirmwareKind({ service, links, httpUrl: () => ctx.httpUrl(), linkTtlS: LINK_TTL_S }));

  const allowList = createDownloadAllowList(ctx);
  const deviceAllowed = allowList.deviceAllowed;

  return {
    name: 'firmware',
    routeExemptions: [
      // Images are fetched with a signed link or device HTTP Basic, and uploaded as a stream of
      // any size to storage (server/firmware/firmwareRoutes.ts checks both).
      { methods: ['GET', 'HEAD'], path: '/v1/firmware/:id/content', skip: ['auth'] },
      { methods: ['PUT'], path: '/v1/firmware/:id/content', skip: ['bodyLimit'] },
    ],
    start: () => allowList.load(),
    routes(app) {
      registerFirmwareRoutes(app, {
        service,
        storage,
        images,
        links,
        credentials: ctx.credentials,
        auth: ctx.auth,
        audit: ctx.audit,
        deviceAllowed,
      });
      registerCampaignRoutes(app, {
        engine: ctx.campaigns,
        audit: ctx.audit,
        idempotency: idempotency(ctx.db, { log: ctx.log }),
        kind: 'firmware',
        basePath: '/v1/rollouts',
        noun: 'rollout',
        paramsShape: firmwareParams.shape,
        example: {
          name: 'pos-os 2.1.0 to Paris',
          firmwareId: 'fw_GmH0tq2Xg1yqkB3b',
          mode: 'forced',
          target: { filter: { model: 'PAX-A920', fwVersion: '2.0.3' } },
          phases: canaryEarlyRestPhases(),
          successThreshold: 95,
          errorThreshold: 2,
        },
      });
    },
  };
}
