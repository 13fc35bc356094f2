// Payment apps (docs/apps.md): signed packages and their content, app deployments (the `apps`
// campaign kind at /v1/app-deployments), and the inventory terminals report on their state topic.
import { join } from 'node:path';
import { registerCampaignRoutes } from '../campaigns/campaignRoutes.ts';
import { createLocalStorage } from '../firmware/artifactStorage.ts';
import { createDownloadLinks } from '../firmware/downloadLinks.ts';
import { idempotency } from '../http/idempotency.ts';
import type { ModuleContext, ServerModule } from '../moduleContract.ts';
import { createDownloadAllowList } from '../firmware/downloadAllowList.ts';
import { registerAppDownload } from './appDownload.ts';
import { registerAppRoutes } from './appRoutes.ts';
import { createAppService } from './appService.ts';
import { appParams, createAppsKind } from './appsKind.ts';
import { createAppInventory } from './inventory.ts';

const LINK_TTL_S = 24 * 3600;

export function createAppsModule(ctx: ModuleContext): ServerModule {
  // Content-addressed like firmware images, in a folder of its own.
  const storage = createLocalStorage(join(ctx.sharedDir, 'apps'));
  // Packages are signed by the same publishers terminals pin for firmware (docs/apps.md).
  const publisherKeys = () =>
    (ctx.config.FIRMWARE_PUBLISHER_KEYS ?? '')
      .split(',')
      .map((k) => k.trim())
      .filter(Boolean);
  const service = createAppService({ db: ctx.db, storage, publisherKeys });
  const inventory = createAppInventory({ db: ctx.db, log: ctx.log });
  const links = createDownloadLinks(Buffer.from(ctx.hasher.hash('posfleet/app-download-links/v1'), 'hex'));
  ctx.campaigns.register(createAppsKind({ service, inventory, links, httpUrl: () => ctx.httpUrl(), linkTtlS: LINK_TTL_S }));

  const allowList = createDownloadAllowList(ctx);
  const deviceAllowed = allowList.deviceAllowed;

  return {
    name: 'apps',
    routeExemptions: [
      { methods: ['GET', 'HEAD'], path: '/v1/apps/:id/content', skip: ['auth'] },
      { methods: ['PUT'], path: '/v1/apps/:id/content', skip: ['bodyLimit'] },
    ],
    start: () => allowList.load(),
    async stop() {
      await inventory.settled();
    },
    onState(deviceId, msg) {
      if (msg.apps) inventory.report(deviceId, msg.apps);
    },
    onMoved(deviceId) {
      inventory.forget(deviceId);
    },
    routes(app) {
      registerAppRoutes(app, { db: ctx.db, service, inventory, audit: ctx.audit });
      registerAppDownload(app, { service, storage, links, credentials: ctx.credentials, auth: ctx.auth, deviceAllowed });
      registerCampaignRoutes(app, {
        engine: ctx.campaigns,
        audit: ctx.audit,
        idempotency: idempotency(ctx.db, { log: ctx.log }),
        kind: 'apps',
        basePath: '/v1/app-deployments',
        noun: 'app-deployment',
        paramsShape: appParams.shape,
        example: {
          name: 'com.acme.emv 2.1.0 to the PAX fleet',
          action: 'install',
          appId: 'app_GmH0tq2Xg1yqkB3b',
          target: { filter: { model: 'PAX-A920' } },
          phases: [{ name: 'all', percent: 100 }],
          successThreshold: 95,
          errorThreshold: 2,
        },
      });
    },
  };
}
