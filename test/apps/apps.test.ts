// Payment apps end to end on both engines (docs/apps.md): a package signed by the firmware
// publisher is registered and uploaded, deployed to real agents over MQTT, updated and removed,
// while the terminals' inventories (the `apps` member of their state message) follow each step.
// Another model and firmware below minFirmware are skipped; a tampered image or a signature that
// no longer holds is refused by the agent itself.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { forEachServer } from '../helpers/testServer.ts';
import {
  appServerEnv,
  corruptStoredContent,
  deploy,
  failuresOf,
  forgeStoredSignature,
  inventoriesBecome,
  packages,
  publishApp,
  signedPackage,
  startAppFleet,
  stranger,
  type AppFleet,
} from './helpers.ts';
import { signAppManifest } from '../../scripts/sign-app.ts';

const EMV = 'com.acme.emv';
const factoryApp = { packageName: 'com.posfleet.pay', version: '1.0.0' };
const emv = (version: string) => ({ packageName: EMV, version });

forEachServer(
  'payment apps end to end',
  (server) => {
    let fleet: AppFleet;
    let emv200 = '';
    beforeAll(async () => {
      fleet = await startAppFleet(server(), 8);
    }, 60_000);
    afterAll(() => fleet?.stop());

    const image = (deviceId: string, version: string) => join(fleet.stateDirOf(deviceId), 'apps', EMV, `${version}.pkg`);

    it('refuses at registration a manifest without a signature, signed by an untrusted key, or changed after signing', async () => {
      const t = server();
      const pkg = signedPackage(EMV, '2.0.0');
      const unsigned = await t.api<{ error: { code: string } }>('POST', '/v1/apps', { manifest: pkg.manifest });
      expect(unsigned.status).toBe(400);
      expect(unsigned.body.error.code).toBe('validation_failed');
      const refusals = [
        { manifest: pkg.manifest, signature: signAppManifest(pkg.manifest, stranger.privateKeyPem) },
        { manifest: { ...pkg.manifest, models: ['PAX-A920', 'VX-990'] }, signature: pkg.signature },
        { manifest: pkg.manifest, signature: 'bm90IGEgc2lnbmF0dXJl' },
      ];
      for (const body of refusals) {
        const r = await t.api<{ error: { code: string; message: string } }>('POST', '/v1/apps', body);
        expect(r.status, r.text).toBe(422);
        expect(r.body.error).toMatchObject({ code: 'bad_signature', message: expect.stringContaining('trusted publisher key') });
      }
      expect((await packages(t)).has(EMV)).toBe(false);
    });

    it('registers a signed package, refuses content that does not match it, and lists it beside the factory app', async () => {
      const t = server();
      const pkg = signedPackage(EMV, '2.0.0');
      const created = await t.api<{ id: string }>('POST', '/v1/apps', { manifest: pkg.manifest, signature: pkg.signature });
      expect(created.status, created.text).toBe(201);
      const wrong = await t.api<{ error: { code: string } }>('PUT', `/v1/apps/${created.body.id}/content`, undefined, {
        raw: new Uint8Array(signedPackage(EMV, '2.0.0').content),
        headers: { 'content-type': 'application/octet-stream' },
      });
      expect(wrong.status).toBe(422);
      expect(wrong.body.error.code).toBe('hash_mismatch');
      // The same manifest again is the same package (idempotent), and its content is still awaited.
      const again = await t.api<{ id: string; state: string }>('POST', '/v1/apps', { manifest: pkg.manifest, signature: pkg.signature });
      expect(again.status).toBe(200);
      expect(again.body).toMatchObject({ id: created.body.id, state: 'awaiting_content' });

      const ready = await publishApp(t, signedPackage('com.acme.emv', '1.9.0'));
      expect(ready).toMatchObject({ packageName: EMV, version: '1.9.0', state: 'ready', models: ['PAX-A920'], minFirmware: '1.2.0' });
      const up = await t.api<{ id: string; state: string }>('PUT', `/v1/apps/${created.body.id}/content`, undefined, {
        raw: new Uint8Array(pkg.content),
        headers: { 'content-type': 'application/octet-stream' },
      });
      expect(up.status, up.text).toBe(200);
      expect(up.body.state).toBe('ready');
      emv200 = created.body.id;

      await inventoriesBecome(t, fleet.all, [factoryApp]);
      const listed = await packages(t);
      expect(listed.get(EMV)).toEqual({
        packageName: EMV,
        installs: 0,
        versions: [
          { version: '1.9.0', id: ready.id, state: 'ready', models: ['PAX-A920'], minFirmware: '1.2.0', installs: 0 },
          { version: '2.0.0', id: emv200, state: 'ready', models: ['PAX-A920'], minFirmware: '1.2.0', installs: 0 },
        ],
      });
      expect(listed.get(factoryApp.packageName)).toEqual({
        packageName: factoryApp.packageName,
        installs: fleet.all.length,
        versions: [{ version: '1.0.0', id: null, state: null, models: null, minFirmware: null, installs: fleet.all.length }],
      });
    });

    it('installs on every terminal that can take it, skipping another model and firmware below minFirmware as incompatible', async () => {
      const t = server();
      const { deployment, members } = await deploy(t, { action: 'install', appId: emv200 }, fleet.all);
      expect(deployment.state).toBe('succeeded');
      for (const id of fleet.main) expect(members.get(id), id).toMatchObject({ state: 'succeeded', error: null });
      for (const id of [fleet.otherModel, fleet.oldFirmware])
        expect(members.get(id), id).toMatchObject({ state: 'skipped', note: 'incompatible' });
      expect(deployment.counts).toEqual({ succeeded: fleet.main.length, skipped: 2 });

      await inventoriesBecome(t, fleet.main, [emv('2.0.0'), factoryApp]);
      await inventoriesBecome(t, [fleet.otherModel, fleet.oldFirmware], [factoryApp]);
      const listed = (await packages(t)).get(EMV)!;
      expect(listed.installs).toBe(fleet.main.length);
      expect(listed.versions.map((v) => [v.version, v.installs])).toEqual([
        ['1.9.0', 0],
        ['2.0.0', fleet.main.length],
      ]);
      for (const id of fleet.main) expect(existsSync(image(id, '2.0.0'))).toBe(true);

      // Once more: every terminal that can take it has it already, and nothing is sent.
      const again = await deploy(t, { action: 'install', appId: emv200 }, fleet.main);
      for (const id of fleet.main)
        expect(again.members.get(id)).toMatchObject({ state: 'skipped', note: 'already_installed', commandId: null });
    });

    it('ends failed with hash_mismatch for a tampered image and bad_signature for a signature that does not hold, refused by the agent', async () => {
      const t = server();
      const loyalty = await publishApp(t, signedPackage('com.acme.loyalty', '1.0.0'));
      corruptStoredContent(t, loyalty);
      const tampered = await deploy(t, { action: 'install', appId: loyalty.id }, fleet.main.slice(0, 2));
      for (const id of fleet.main.slice(0, 2))
        expect(tampered.members.get(id)).toMatchObject({ state: 'failed', error: { code: 'hash_mismatch', message: expect.any(String) } });
      expect(await failuresOf(t, tampered.deployment.id)).toEqual({
        total: 2,
        byCode: [{ code: 'hash_mismatch', count: 2, message: 'the downloaded package does not match the signed sha256' }],
      });

      const tipsPkg = signedPackage('com.acme.tips', '1.0.0');
      const tips = await publishApp(t, tipsPkg);
      await forgeStoredSignature(t, tips.id, tipsPkg.manifest);
      const forged = await deploy(t, { action: 'install', appId: tips.id }, fleet.main.slice(2, 3));
      expect(forged.members.get(fleet.main[2]!)).toMatchObject({ state: 'failed', error: { code: 'bad_signature' } });
      expect(await failuresOf(t, forged.deployment.id)).toEqual({
        total: 1,
        byCode: [{ code: 'bad_signature', count: 1, message: 'the manifest signature does not verify with a pinned publisher key' }],
      });

      // Nothing of either package is kept or reported.
      await inventoriesBecome(t, fleet.main.slice(0, 3), [emv('2.0.0'), factoryApp]);
      for (const id of fleet.main.slice(0, 3))
        expect(readdirSync(join(fleet.stateDirOf(id), 'apps')).sort()).toEqual([EMV, 'inventory.json']);
      const listed = await packages(t);
      expect(listed.get('com.acme.loyalty')?.installs).toBe(0);
      expect(listed.get('com.acme.tips')?.installs).toBe(0);
    });

    it('updates to a newer version, then uninstalls, the inventory following each step', async () => {
      const t = server();
      const emv210 = await publishApp(t, signedPackage(EMV, '2.1.0'));
      const update = await deploy(t, { action: 'update', appId: emv210.id }, fleet.all);
      for (const id of fleet.main) expect(update.members.get(id), id).toMatchObject({ state: 'succeeded', reportedVersion: '2.1.0' });
      for (const id of [fleet.otherModel, fleet.oldFirmware])
        expect(update.members.get(id)).toMatchObject({ state: 'skipped', note: 'incompatible' });
      await inventoriesBecome(t, fleet.main, [emv('2.1.0'), factoryApp]);
      const afterUpdate = (await packages(t)).get(EMV)!;
      expect(afterUpdate.versions.map((v) => [v.version, v.installs])).toEqual([
        ['1.9.0', 0],
        ['2.0.0', 0],
        ['2.1.0', fleet.main.length],
      ]);
      // The older image is replaced on the terminal, not kept beside the new one.
      for (const id of fleet.main) expect([existsSync(image(id, '2.0.0')), existsSync(image(id, '2.1.0'))]).toEqual([false, true]);

      const removal = await deploy(t, { action: 'uninstall', packageName: EMV }, fleet.all);
      expect(removal.deployment.state).toBe('succeeded');
      for (const id of fleet.main) expect(removal.members.get(id), id).toMatchObject({ state: 'succeeded', error: null });
      for (const id of [fleet.otherModel, fleet.oldFirmware])
        expect(removal.members.get(id)).toMatchObject({ state: 'skipped', note: 'not_installed' });
      await inventoriesBecome(t, fleet.all, [factoryApp]);
      const afterRemoval = (await packages(t)).get(EMV)!;
      expect(afterRemoval.installs).toBe(0);
      expect(afterRemoval.versions.map((v) => v.installs)).toEqual([0, 0, 0]);
      for (const id of fleet.main) expect(existsSync(image(id, '2.1.0'))).toBe(false);
    });
  },
  { env: appServerEnv },
);
