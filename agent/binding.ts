// Binding token verification on the terminal (SPEC §6, docs/binding.md): the token opened with
// the binding key pinned at enrollment (schemas/binding.ts), then this terminal's own rules: the
// device id, and an epoch that never goes back. Pure.
import { openBindingToken, type BindingClaims, type TokenOpenRefusal } from '../schemas/binding.ts';

export type TokenRefusal = TokenOpenRefusal | 'wrong_device' | 'stale_epoch';

export type TokenVerdict =
  | { ok: true; claims: BindingClaims; /** The same token as the one held (a repeat). */ same: boolean }
  | { ok: false; code: TokenRefusal; message: string };

export interface HeldBinding {
  token: string;
  claims: BindingClaims;
}

export function verifyBindingToken(token: string, pinnedKeyBase64: string, deviceId: string, held: HeldBinding | null): TokenVerdict {
  const opened = openBindingToken(token, pinnedKeyBase64);
  if (!opened.ok) return opened;
  const { claims } = opened;
  if (claims.deviceId !== deviceId) return { ok: false, code: 'wrong_device', message: `token is for ${claims.deviceId}` };
  if (held) {
    if (token === held.token) return { ok: true, claims, same: true };
    if (claims.epoch <= held.claims.epoch) {
      return { ok: false, code: 'stale_epoch', message: `epoch ${claims.epoch} is not newer than the held ${held.claims.epoch}` };
    }
  }
  return { ok: true, claims, same: false };
}
