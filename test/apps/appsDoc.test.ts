// The worked signing example of docs/apps.md (```app-vector): the canonical bytes and the
// signature recomputed from its key and manifest, and scripts/sign-app.ts run on its content as
// the page shows, so the documented bytes and command cannot drift from the code.
import { execFile } from 'node:child_process';
import { createHash, createPrivateKey, createPublicKey } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { appManifest, appManifestBytes, appManifestSigner } from '../../schemas/apps.ts';
import { signAppManifest } from '../../scripts/sign-app.ts';
import { documentedVectors } from '../helpers/docVectors.ts';

const v = documentedVectors('app-vector', 'apps.md');
const pem = `-----BEGIN PRIVATE KEY-----\n${v.private_key}\n-----END PRIVATE KEY-----\n`;
const content = Buffer.from(v.content!.replace(/\\n/g, '\n'), 'utf8');
const manifest = appManifest.parse(JSON.parse(v.manifest!));
const ROOT = join(import.meta.dirname, '..', '..');

describe('docs/apps.md signing example', () => {
  it('names a key pair, a manifest of its content, its canonical bytes and their signature', () => {
    const key = createPrivateKey(pem);
    expect(Buffer.from(createPublicKey(key).export({ format: 'jwk' }).x!, 'base64url').toString('base64')).toBe(v.public_key);
    expect(manifest).toMatchObject({ size: content.length, sha256: createHash('sha256').update(content).digest('hex') });
    expect(appManifestBytes(manifest).toString('utf8')).toBe(v.canonical);
    expect(signAppManifest(manifest, key)).toBe(v.signature);
    expect(appManifestSigner(manifest, v.signature!, [v.public_key!])).toBe(v.public_key);
  });

  it('is what scripts/sign-app.ts writes for that content', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pf-sign-app-'));
    try {
      writeFileSync(join(dir, 'publisher.key'), pem, { mode: 0o600 });
      writeFileSync(join(dir, 'emv-2.1.0.pkg'), content);
      const args = [
        '--import',
        'tsx',
        'scripts/sign-app.ts',
        'sign',
        '--key',
        join(dir, 'publisher.key'),
        '--image',
        join(dir, 'emv-2.1.0.pkg'),
      ];
      const named = [
        '--package',
        manifest.packageName,
        '--version',
        manifest.version,
        '--models',
        manifest.models.join(','),
        '--min-firmware',
        manifest.minFirmware,
      ];
      const { stdout } = await promisify(execFile)(process.execPath, [...args, ...named], { cwd: ROOT });
      const written = z.object({ manifest: appManifest, signature: z.string() }).parse(JSON.parse(stdout));
      expect(written).toEqual({ manifest, signature: v.signature });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
