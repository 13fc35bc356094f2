// Signed upload links for log bundles: HMAC-SHA256 (under the server pepper, domain-separated)
// of the bundle id and the expiry. The device needs no credentials to use one; nobody else can
// make one, and it stops working at `exp`.
import type { SecretHasher } from '../security/secretHasher.ts';

const message = (bundleId: string, expMs: number) => `posfleet.logs.upload\n${bundleId}\n${expMs}`;

export function signUpload(hasher: SecretHasher, bundleId: string, expMs: number): string {
  return hasher.hash(message(bundleId, expMs));
}

export type UploadCheck = { ok: true } | { ok: false; reason: 'bad_signature' | 'expired' };

export function checkUpload(hasher: SecretHasher, bundleId: string, exp: string, sig: string, nowMs: number): UploadCheck {
  if (!/^[0-9]{1,15}$/.test(exp)) return { ok: false, reason: 'bad_signature' };
  const expMs = Number(exp);
  if (!hasher.verify(message(bundleId, expMs), sig)) return { ok: false, reason: 'bad_signature' };
  if (expMs <= nowMs) return { ok: false, reason: 'expired' };
  return { ok: true };
}

export function uploadUrl(baseUrl: string, bundleId: string, expMs: number, sig: string): string {
  return `${baseUrl.replace(/\/+$/, '')}/v1/uploads/logs/${encodeURIComponent(bundleId)}?exp=${expMs}&sig=${sig}`;
}
