// The Ed25519 key that signs binding tokens (SPEC §6). Terminals learn its public half at
// enrollment. Kept in DATA_DIR (0600), or given as BINDING_SIGNING_KEY (PKCS#8 PEM) when
// several server instances must share it.
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface BindingKey {
  /** Base64 of the raw 32-byte Ed25519 public key. */
  publicKeyBase64: string;
  sign(data: Buffer): Buffer;
}

export function rawEd25519PublicKey(key: KeyObject): Buffer {
  // SPKI DER of an Ed25519 key ends with the 32 raw bytes.
  return createPublicKey(key).export({ format: 'der', type: 'spki' }).subarray(-32);
}

export function loadBindingKey(opts: { dataDir: string; pem?: string }): BindingKey {
  let privateKey: KeyObject;
  if (opts.pem) {
    privateKey = createPrivateKey(opts.pem);
  } else {
    const file = join(opts.dataDir, 'binding.key');
    if (existsSync(file)) {
      privateKey = createPrivateKey(readFileSync(file));
    } else {
      mkdirSync(opts.dataDir, { recursive: true });
      privateKey = generateKeyPairSync('ed25519').privateKey;
      writeFileSync(file, privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });
      chmodSync(file, 0o600);
    }
  }
  if (privateKey.asymmetricKeyType !== 'ed25519') throw new Error('the binding signing key must be Ed25519');
  return {
    publicKeyBase64: rawEd25519PublicKey(privateKey).toString('base64'),
    sign: (data) => sign(null, data, privateKey),
  };
}
