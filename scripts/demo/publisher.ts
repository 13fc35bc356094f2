// The demo's own firmware publisher: an Ed25519 key pair in DATA_DIR/demo-publisher (private key
// owner-only), whose public key the demo server trusts next to any FIRMWARE_PUBLISHER_KEYS given,
// so `npm run demo:rollout` can sign an image the demo terminals accept.
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generatePublisherKey } from '../sign-firmware.ts';

export interface DemoPublisher {
  keyFile: string;
  publicKeyBase64: string;
}

export function demoPublisherFiles(dataDir: string) {
  const dir = join(dataDir, 'demo-publisher');
  return { dir, key: join(dir, 'publisher.key'), pub: join(dir, 'publisher.pub') };
}

export function loadOrCreateDemoPublisher(dataDir: string): DemoPublisher {
  const files = demoPublisherFiles(dataDir);
  if (!existsSync(files.key) || !existsSync(files.pub)) {
    mkdirSync(files.dir, { recursive: true, mode: 0o700 });
    const k = generatePublisherKey();
    writeFileSync(files.key, k.privateKeyPem, { mode: 0o600 });
    writeFileSync(files.pub, `${k.publicKeyBase64}\n`);
  }
  // writeFileSync's mode applies only to a new file: tighten one made or copied by hand.
  chmodSync(files.key, 0o600);
  return { keyFile: files.key, publicKeyBase64: readFileSync(files.pub, 'utf8').trim() };
}

/** FIRMWARE_PUBLISHER_KEYS with the demo key added (the operator's own keys stay trusted). */
export function withDemoPublisher(configured: string | undefined, demoKey: string): string {
  const keys = (configured ?? '')
    .split(',')
    .map((k) => k.trim())
    .filter(Boolean);
  return [...new Set([...keys, demoKey])].join(',');
}
