// The console's app deployment form without a browser (client/console/views/campaigns/campaignRules.ts):
// the app fields as create-body members, the rule the server applies only at creation said before
// sending, the whole body as POST /v1/app-deployments checks it, and GET /v1/apps's versions as choices.
import { describe, expect, it } from 'vitest';
import { packageSummary } from '../../server/apps/appRoutes.ts';
import { appDeploymentKind } from '../../client/console/views/campaigns/campaignKinds.ts';
import {
  appDeploymentParams,
  appParamsOf,
  appVersionChoices,
  createBody,
  type CampaignDraft,
} from '../../client/console/views/campaigns/campaignRules.ts';

const draft: CampaignDraft = {
  name: ' emv 2.1.0 ',
  targetKind: 'devices',
  groupId: '',
  filterId: '',
  query: '',
  deviceIds: 'dev_a dev_b',
  phases: [{ name: 'all', percent: '100' }],
  successThreshold: '95',
  errorThreshold: '5',
  startAt: '',
};

const messages = (p: unknown) => appDeploymentParams.safeParse(p).error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`) ?? [];

describe('app deployment fields', () => {
  it('sends the version picked for install and update, the package typed for uninstall', () => {
    expect(appParamsOf({ action: 'install', appId: 'app_1', packageName: 'com.old.name' })).toEqual({ action: 'install', appId: 'app_1' });
    expect(appParamsOf({ action: 'update', appId: 'app_2', packageName: '' })).toEqual({ action: 'update', appId: 'app_2' });
    // A version picked before switching to uninstall is not sent: the name typed is what goes.
    expect(appParamsOf({ action: 'uninstall', appId: 'app_1', packageName: '  com.acme.emv ' })).toEqual({
      action: 'uninstall',
      packageName: 'com.acme.emv',
    });
    expect(appParamsOf({ action: 'install', appId: '', packageName: '' })).toEqual({ action: 'install' });
    expect(appParamsOf({ action: 'uninstall', appId: 'app_1', packageName: ' ' })).toEqual({ action: 'uninstall' });
  });

  it('names what is missing before the server answers app_required', () => {
    expect(messages({ action: 'install' })).toEqual(['appId: pick the app version to install']);
    expect(messages({ action: 'update' })).toEqual(['appId: pick the app version to update']);
    expect(messages({ action: 'uninstall' })).toEqual(['packageName: name the package to uninstall']);
    expect(messages({ action: 'install', appId: 'app_1' })).toEqual([]);
    expect(messages({ action: 'uninstall', packageName: 'com.acme.emv' })).toEqual([]);
    expect(messages({ action: 'uninstall', appId: 'app_1' })).toEqual([]);
    // The server's own rules still apply: a package name is reverse-DNS, an action one of three.
    expect(messages({ action: 'uninstall', packageName: 'Not A Package' })[0]).toMatch(/^packageName: /);
    expect(messages({ action: 'reinstall', appId: 'app_1' })[0]).toMatch(/^action: /);
  });

  it('makes a body POST /v1/app-deployments accepts', () => {
    const body = { ...createBody(draft), ...appParamsOf({ action: 'install', appId: 'app_1', packageName: '' }) };
    const parsed = appDeploymentKind.createBody.safeParse(body);
    expect(parsed.error?.issues ?? []).toEqual([]);
    expect(parsed.data).toMatchObject({ name: 'emv 2.1.0', action: 'install', appId: 'app_1', target: { deviceIds: ['dev_a', 'dev_b'] } });
    // A member only the form knows is refused by the server's strict body, not passed along.
    expect(appDeploymentKind.createBody.safeParse({ ...body, version: '2.1.0' }).success).toBe(false);
  });
});

describe('app versions to pick from', () => {
  const answer = packageSummary.array().parse([
    {
      packageName: 'com.acme.emv',
      installs: 3,
      versions: [
        // Version-text order, as GET /v1/apps lists them.
        { version: '1.10.0', id: 'app_10', state: 'ready', models: ['PAX-A920'], minFirmware: '1.2.0', installs: 1 },
        { version: '1.2.0', id: null, state: null, models: null, minFirmware: null, installs: 2 },
        { version: '1.9.0', id: 'app_9', state: 'ready', models: ['PAX-A920', 'PAX-A80'], minFirmware: '1.2.0', installs: 0 },
        { version: '2.0.0-rc.1', id: 'app_rc', state: 'awaiting_content', models: ['PAX-A920'], minFirmware: '1.2.0', installs: 0 },
      ],
    },
    {
      packageName: 'com.acme.loyalty',
      installs: 0,
      versions: [{ version: '0.1.0', id: 'app_l', state: 'ready', models: ['VX-990'], minFirmware: '1.0.0', installs: 0 }],
    },
  ]);

  it('lists registered versions newest first by semantic version, marking those without content', () => {
    expect(appVersionChoices(answer)).toEqual([
      { id: 'app_rc', ready: false, label: 'com.acme.emv 2.0.0-rc.1 (PAX-A920) (content not uploaded)' },
      { id: 'app_10', ready: true, label: 'com.acme.emv 1.10.0 (PAX-A920)' },
      { id: 'app_9', ready: true, label: 'com.acme.emv 1.9.0 (PAX-A920, PAX-A80)' },
      { id: 'app_l', ready: true, label: 'com.acme.loyalty 0.1.0 (VX-990)' },
    ]);
    expect(appVersionChoices([])).toEqual([]);
  });
});
