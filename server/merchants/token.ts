// Binding tokens (SPEC §6, docs/binding.md): `pfb1.<b64url(claims)>.<b64url(Ed25519 sig)>`.
import { bindingClaims, BINDING_TOKEN_VERSION, type BindingClaims } from '../../schemas/binding.ts';

export function signBindingToken(claims: BindingClaims, sign: (data: Buffer) => Buffer): string {
  const payload = Buffer.from(JSON.stringify(bindingClaims.parse(claims)), 'utf8').toString('base64url');
  const signingInput = `${BINDING_TOKEN_VERSION}.${payload}`;
  return `${signingInput}.${sign(Buffer.from(signingInput, 'ascii')).toString('base64url')}`;
}
