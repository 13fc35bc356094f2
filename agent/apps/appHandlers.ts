// app.install and app.uninstall (docs/apps.md "Agent side"). An install checks, in order: the
// manifest's signature against the pinned publisher keys (the firmware ones) and that the command
// matches it (bad_signature), the model and firmware (incompatible), the space (no_space); then
// downloads (resumable, as firmware), checks the sha256 (hash_mismatch) and installs, replacing an
// older version of the package. The inventory changes only once an install or uninstall is whole,
// and the terminal then reports it on its state topic at once.
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { appManifestSigner, compareSemver, isSemver, type AppInventory } from '../../schemas/apps.ts';
import { cancelledError, CommandError, type CommandHandler, type HandlerRegistry } from '../dispatcher.ts';
import type { HandlerEnv } from '../handlers/env.ts';
import { DownloadAborted, downloadResumable } from '../ota/download.ts';
import { appPaths, loadApps, saveApps } from './appInventory.ts';

const fail = (code: string, message: string) => new CommandError(code, message, 'failed');

async function sha256Of(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

export function appHandlers(env: HandlerEnv): Pick<HandlerRegistry, 'app.install' | 'app.uninstall'> {
  const inventory = () => loadApps(env.store, env.factoryApps) ?? [];
  const commit = (next: AppInventory) => {
    saveApps(env.store, next);
    env.stateChanged?.();
  };

  const install: CommandHandler<'app.install'> = async (ctx) => {
    const p = ctx.payload;
    const { manifest } = p;
    const installed = inventory().find((a) => a.packageName === p.packageName)?.version ?? null;
    if (installed === p.version) throw new CommandError('already_installed', `${p.packageName} ${p.version} is installed`, 'rejected');

    const pinned = env.store.loadEnrollment()?.trust.firmwarePublishers ?? [];
    if (!appManifestSigner(manifest, p.signature, pinned))
      throw fail('bad_signature', 'the manifest signature does not verify with a pinned publisher key');
    if (manifest.packageName !== p.packageName || manifest.version !== p.version || manifest.sha256 !== p.sha256)
      throw fail('bad_signature', 'the command does not match its signed manifest');
    const enrollment = env.store.loadEnrollment();
    const model = enrollment?.model ?? '';
    if (!manifest.models.includes(model)) throw fail('incompatible', `${manifest.packageName} ${manifest.version} is not for model ${model}`);
    const slots = env.store.loadFirmware('1.0.0');
    const fw = slots[slots.active].version;
    if (!isSemver(fw) || compareSemver(fw, manifest.minFirmware) < 0)
      throw fail('incompatible', `${manifest.packageName} ${manifest.version} needs firmware ${manifest.minFirmware}, the terminal runs ${fw}`);
    const freeMb = env.hardware.readStorage().freeMb;
    if (freeMb * 1024 * 1024 < manifest.size)
      throw fail('no_space', `${freeMb} MB free, ${Math.ceil(manifest.size / 1048576)} MB needed`);

    const paths = appPaths(env.store);
    const part = paths.part(manifest.sha256);
    let reported = -1;
    ctx.progress('downloading', 0);
    try {
      await downloadResumable({
        url: p.url,
        path: part,
        size: manifest.size,
        ...(env.ca ? { ca: env.ca } : {}),
        ...(ctx.signal ? { signal: ctx.signal } : {}),
        onProgress: (bytes) => {
          const pct = Math.floor((bytes / manifest.size) * 4) * 25;
          if (pct > reported && pct < 100) {
            reported = pct;
            ctx.progress('downloading', pct);
          }
        },
      });
    } catch (err) {
      if (err instanceof DownloadAborted || ctx.signal?.aborted) {
        rmSync(part, { force: true });
        throw cancelledError('cancelled by the server; the download was discarded');
      }
      throw fail('download_failed', (err as Error).message);
    }
    if (statSync(part).size !== manifest.size || (await sha256Of(part)) !== manifest.sha256) {
      rmSync(part, { force: true });
      throw fail('hash_mismatch', 'the downloaded package does not match the signed sha256');
    }
    ctx.pointOfNoReturn?.();
    ctx.progress('installing', 100);
    mkdirSync(paths.packageDir(p.packageName), { recursive: true, mode: 0o700 });
    renameSync(part, paths.image(p.packageName, p.version));
    if (installed !== null) rmSync(paths.image(p.packageName, installed), { force: true });
    commit([...inventory().filter((a) => a.packageName !== p.packageName), { packageName: p.packageName, version: p.version }]);
    return { packageName: p.packageName, version: p.version, previous: installed };
  };

  const uninstall: CommandHandler<'app.uninstall'> = async (ctx) => {
    const { packageName } = ctx.payload;
    const current = inventory();
    const app = current.find((a) => a.packageName === packageName);
    if (!app) throw fail('not_installed', `${packageName} is not installed`);
    const image = appPaths(env.store).image(packageName, app.version);
    if (existsSync(image)) rmSync(image, { force: true });
    commit(current.filter((a) => a.packageName !== packageName));
    return { packageName, version: null, previous: app.version };
  };

  return { 'app.install': install, 'app.uninstall': uninstall };
}
