// Payment-app publisher tool (docs/apps.md). App packages are signed by the same publishers as
// firmware, so keys come from `scripts/sign-firmware.ts keygen` and the signature is the
// firmware signer's over the app manifest's canonical JSON.
//
//   npx tsx scripts/sign-app.ts sign --key ./publisher/publisher.key --image emv-2.1.0.pkg \
//        --package com.acme.emv --version 2.1.0 --models PAX-A920,PAX-A80 --min-firmware 1.2.0 [--out emv-2.1.0.json]
//
// `sign` writes {manifest, signature}: the body of POST /v1/apps.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { KeyObject } from 'node:crypto';
import { appManifest, appManifestBytes, type AppManifest } from '../schemas/apps.ts';
import { hashFile, modelList, signCanonicalBytes, writeSigned } from './sign-firmware.ts';

/** base64 Ed25519 signature over the app manifest's canonical JSON. */
export function signAppManifest(manifest: AppManifest, privateKey: KeyObject | string): string {
  return signCanonicalBytes(appManifestBytes(appManifest.parse(manifest)), privateKey);
}

const USAGE = 'usage: sign-app sign --key KEY --image FILE --package NAME --version V --models M1,M2 --min-firmware V [--out FILE]';

async function main(argv: string[]) {
  const [command, ...rest] = argv;
  if (command !== 'sign') throw new Error(`${USAGE}\n(keys: npx tsx scripts/sign-firmware.ts keygen --out DIR)`);
  const { values } = parseArgs({
    args: rest,
    options: {
      out: { type: 'string' },
      key: { type: 'string' },
      image: { type: 'string' },
      package: { type: 'string' },
      version: { type: 'string' },
      models: { type: 'string' },
      'min-firmware': { type: 'string' },
    },
  });
  const minFirmware = values['min-firmware'];
  if (!values.key || !values.image || !values.package || !values.version || !values.models || !minFirmware) throw new Error(USAGE);
  const { size, sha256 } = await hashFile(values.image);
  const manifest = appManifest.parse({
    packageName: values.package,
    version: values.version,
    models: modelList(values.models),
    minFirmware,
    size,
    sha256,
  });
  writeSigned(values.out, { manifest, signature: signAppManifest(manifest, readFileSync(values.key, 'utf8')) });
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(1);
  });
}
