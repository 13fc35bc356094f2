// Firmware publisher tool (docs/ota.md). The private key stays with the publisher; the server
// and the terminals hold only the public key (FIRMWARE_PUBLISHER_KEYS, pinned at enrollment).
//
//   npx tsx scripts/sign-firmware.ts keygen --out ./publisher            # publisher.key + publisher.pub
//   npx tsx scripts/sign-firmware.ts sign --key ./publisher/publisher.key --image fw.bin \
//        --name pos-os --version 2.1.0 --models PAX-A920,PAX-A80 [--out fw.manifest.json]
//
// `sign` writes {manifest, signature}: the body of POST /v1/firmware.
import { createHash, createPrivateKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { createReadStream, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { firmwareManifest, manifestBytes, type FirmwareManifest } from '../schemas/ota.ts';

export function generatePublisherKey(): { privateKeyPem: string; publicKeyBase64: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const jwk = publicKey.export({ format: 'jwk' });
  return {
    privateKeyPem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    publicKeyBase64: Buffer.from(jwk.x!, 'base64url').toString('base64'),
  };
}

/** base64 Ed25519 signature over a manifest's canonical bytes (firmware here, apps in scripts/sign-app.ts). */
export function signCanonicalBytes(bytes: Buffer, privateKey: KeyObject | string): string {
  const key = typeof privateKey === 'string' ? createPrivateKey(privateKey) : privateKey;
  return sign(null, bytes, key).toString('base64');
}

/** base64 Ed25519 signature over the manifest's canonical JSON. */
export function signManifest(manifest: FirmwareManifest, privateKey: KeyObject | string): string {
  return signCanonicalBytes(manifestBytes(firmwareManifest.parse(manifest)), privateKey);
}

/** `--models PAX-A920, PAX-A80` as the manifest's list. */
export const modelList = (flag: string): string[] =>
  flag
    .split(',')
    .map((m) => m.trim())
    .filter(Boolean);

/** `{manifest, signature}` (the body of the register call) to `out`, or to stdout. */
export function writeSigned(out: string | undefined, signed: { manifest: unknown; signature: string }): void {
  const text = `${JSON.stringify(signed, null, 2)}\n`;
  if (out) writeFileSync(out, text);
  else process.stdout.write(text);
}

export async function hashFile(path: string): Promise<{ size: number; sha256: string }> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return { size: statSync(path).size, sha256: hash.digest('hex') };
}

async function main(argv: string[]) {
  const [command, ...rest] = argv;
  const { values } = parseArgs({
    args: rest,
    options: {
      out: { type: 'string' },
      key: { type: 'string' },
      image: { type: 'string' },
      name: { type: 'string' },
      version: { type: 'string' },
      models: { type: 'string' },
    },
  });
  if (command === 'keygen') {
    const dir = values.out ?? '.';
    mkdirSync(dir, { recursive: true });
    const k = generatePublisherKey();
    writeFileSync(join(dir, 'publisher.key'), k.privateKeyPem, { mode: 0o600 });
    writeFileSync(join(dir, 'publisher.pub'), `${k.publicKeyBase64}\n`);
    process.stdout.write(
      `private key: ${join(dir, 'publisher.key')} (keep it offline)\npublic key (FIRMWARE_PUBLISHER_KEYS): ${k.publicKeyBase64}\n`,
    );
    return;
  }
  if (command === 'sign') {
    if (!values.key || !values.image || !values.name || !values.version || !values.models) {
      throw new Error('sign needs --key --image --name --version --models');
    }
    const { size, sha256 } = await hashFile(values.image);
    const manifest = firmwareManifest.parse({
      name: values.name,
      version: values.version,
      models: modelList(values.models),
      size,
      sha256,
    });
    writeSigned(values.out, { manifest, signature: signManifest(manifest, readFileSync(values.key, 'utf8')) });
    return;
  }
  throw new Error('usage: sign-firmware keygen --out DIR | sign --key KEY --image FILE --name N --version V --models M1,M2 [--out FILE]');
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(1);
  });
}
