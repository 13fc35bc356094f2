// Binding token verification on the terminal (SPEC §6, docs/binding.md): the signature against
// the binding key pinned at enrollment, the device id, and an epoch that never goes back. Pure.
import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import { bindingClaims, splitBindingToken, type BindingClaims } from '../schemas/binding.ts';

/** SPKI DER prefix of an Ed25519 public key; the raw 32 bytes follow. */
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

export function ed25519PublicKey(rawBase64: string): KeyObject | null {
  const raw = Buffer.from(rawBase64, 'base64');
  if (raw.length !== 32) return null;
  try {
    return createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, raw]), format: 'der', type: 'spki' });
  } catch {
    return null;
  }
}

export type TokenRefusal = 'malformed' | 'no_pinned_key' | 'bad_signature' | 'wrong_device' | 'stale_epoch';

export type TokenVerdict =
  | { ok: true; claims: BindingClaims; /** The same token as the one held (a repeat). */ same: boolean }
  | { ok: false; code: TokenRefusal; message: string };

export interface HeldBinding {
  token: string;
  claims: BindingClaims;
}

export function verifyBindingToken(token: string, pinnedKeyBase64: string, deviceId: string, held: HeldBinding | null): TokenVerdict {
  const parts = splitBindingToken(token);
  if (!parts) return { ok: false, code: 'malformed', message: 'not a pfb1 binding token' };
  const key = ed25519PublicKey(pinnedKeyBase64);
  if (!key) return { ok: false, code: 'no_pinned_key', message: 'no binding key was pinned at enrollment' };
  // The signature first: nothing in an unsigned payload is worth reading.
  if (!verify(null, parts.signingInput, key, parts.signature))
    return { ok: false, code: 'bad_signature', message: 'signature does not verify with the pinned binding key' };
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(parts.payload, 'base64url').toString('utf8'));
  } catch {
    return { ok: false, code: 'malformed', message: 'claims are not JSON' };
  }
  const claims = bindingClaims.safeParse(json);
  if (!claims.success) return { ok: false, code: 'malformed', message: `claims: ${claims.error.issues[0]?.message ?? 'invalid'}` };
  if (claims.data.deviceId !== deviceId) return { ok: false, code: 'wrong_device', message: `token is for ${claims.data.deviceId}` };
  if (held) {
    if (token === held.token) return { ok: true, claims: claims.data, same: true };
    if (claims.data.epoch <= held.claims.epoch) {
      return { ok: false, code: 'stale_epoch', message: `epoch ${claims.data.epoch} is not newer than the held ${held.claims.epoch}` };
    }
  }
  return { ok: true, claims: claims.data, same: false };
}
