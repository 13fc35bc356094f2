// Merchant binding contract shared by the server and the terminal agent (SPEC §6, docs/binding.md):
// the binding token and its codec (signed by the server, opened by the terminal), the payloads of
// `binding.set` and of the merchant parts of `config.set`, and the `txn` event a terminal reports
// per transaction.
import { verify } from 'node:crypto';
import { z } from 'zod';
import { ed25519PublicKey } from './ota.ts';

/** Merchant id as acquirers issue it: 15 digits (ISO 8583 field 42 in its common numeric form). */
export const MID_PATTERN = /^[0-9]{15}$/;
/** Terminal id: 8 characters, upper-case letters and digits (ISO 8583 field 41). */
export const TID_PATTERN = /^[0-9A-Z]{8}$/;
/** Merchant category code (ISO 18245): four digits, 0000 is not a category. */
export const MCC_PATTERN = /^(?!0000)[0-9]{4}$/;
export const SUB_ID_PATTERN = /^[A-Za-z0-9_-]{1,32}$/;
export const CURRENCY_PATTERN = /^[A-Z]{3}$/;
/** Card tokens are hex SHA-256 of salt ‖ PAN; never the PAN. */
export const CARD_HASH_PATTERN = /^[0-9a-f]{64}$/;

export const merchantKinds = ['single', 'marketplace'] as const;
export type MerchantKind = (typeof merchantKinds)[number];

// ---------------------------------------------------------------------------------------------
// Binding token: `pfb1.<base64url(claims JSON)>.<base64url(Ed25519 signature)>`; the signature
// covers the ASCII bytes of `pfb1.<base64url(claims JSON)>` (everything before the second dot).

export const BINDING_TOKEN_VERSION = 'pfb1';

export const bindingClaims = z
  .object({
    v: z.literal(1),
    deviceId: z.string().min(1).max(64),
    merchantId: z.string().min(1).max(64),
    mid: z.string().regex(MID_PATTERN),
    tid: z.string().regex(TID_PATTERN),
    /** Grows on every change of this terminal's binding; a terminal never accepts a smaller one. */
    epoch: z.number().int().positive(),
    /** Issued at, ms since the Unix epoch. */
    iat: z.number().int().nonnegative(),
    kind: z.enum(merchantKinds),
    /** Marketplace merchants only: the sub-merchant ids the terminal may transact for. */
    subMerchants: z.array(z.string().regex(SUB_ID_PATTERN)).max(500).optional(),
  })
  .strict();
export type BindingClaims = z.infer<typeof bindingClaims>;

export interface SplitToken {
  /** The signed bytes: `pfb1.<payload>`. */
  signingInput: Buffer;
  payload: string;
  signature: Buffer;
}

const B64URL = /^[A-Za-z0-9_-]+$/;

/** Splits a token into its parts; null when it is not of the form `pfb1.<b64url>.<b64url>`. */
export function splitBindingToken(token: string): SplitToken | null {
  const parts = token.split('.');
  if (parts.length !== 3 || parts[0] !== BINDING_TOKEN_VERSION) return null;
  const [, payload, sig] = parts as [string, string, string];
  if (!B64URL.test(payload) || !B64URL.test(sig)) return null;
  return { signingInput: Buffer.from(`${BINDING_TOKEN_VERSION}.${payload}`, 'ascii'), payload, signature: Buffer.from(sig, 'base64url') };
}

/** The server's half of the codec: claims checked against their schema, then signed. */
export function signBindingToken(claims: BindingClaims, sign: (signingInput: Buffer) => Buffer): string {
  const payload = Buffer.from(JSON.stringify(bindingClaims.parse(claims)), 'utf8').toString('base64url');
  const signingInput = `${BINDING_TOKEN_VERSION}.${payload}`;
  return `${signingInput}.${sign(Buffer.from(signingInput, 'ascii')).toString('base64url')}`;
}

export type TokenOpenRefusal = 'malformed' | 'no_pinned_key' | 'bad_signature';
export type OpenedToken = { ok: true; claims: BindingClaims } | { ok: false; code: TokenOpenRefusal; message: string };

/**
 * The terminal's half: the claims of a token whose signature holds under `publicKeyBase64` (raw
 * 32-byte Ed25519, as pinned at enrollment). Whether they are for this terminal and newer than
 * what it holds is the terminal's decision (agent/binding.ts).
 */
export function openBindingToken(token: string, publicKeyBase64: string): OpenedToken {
  const parts = splitBindingToken(token);
  if (!parts) return { ok: false, code: 'malformed', message: 'not a pfb1 binding token' };
  const key = ed25519PublicKey(publicKeyBase64);
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
  return { ok: true, claims: claims.data };
}

// ---------------------------------------------------------------------------------------------
// Policy (server side: per merchant) and what the terminal receives of it with `config.set`.

export const txnLimits = {
  singleAmountLimitMinor: z.number().int().positive().max(Number.MAX_SAFE_INTEGER).optional(),
  dailyCountLimit: z.number().int().positive().max(1_000_000).optional(),
  dailyAmountLimitMinor: z.number().int().positive().max(Number.MAX_SAFE_INTEGER).optional(),
};

export const merchantPolicy = z
  .object({
    currency: z.string().regex(CURRENCY_PATTERN),
    ...txnLimits,
    /** Lock a terminal whose reported figures break the limits. */
    lockOnBreach: z.boolean().default(false),
    /** Lock a terminal found out of its merchant's fence `relocationFixes` times in a row. */
    lockOnRelocation: z.boolean().default(false),
    relocationFixes: z.number().int().min(1).max(100).default(3),
  })
  .strict();
export type MerchantPolicy = z.infer<typeof merchantPolicy>;

/** `config.set` key `txnPolicy`: what the agent enforces offline. */
export const terminalPolicy = z.object({
  merchantId: z.string().min(1).max(64),
  /** IANA zone of the merchant: the day of the daily limits is its local day. */
  timezone: z.string().min(1).max(64),
  currency: z.string().regex(CURRENCY_PATTERN),
  ...txnLimits,
});
export type TerminalPolicy = z.infer<typeof terminalPolicy>;

/** `config.set` key `cardBlacklist`: blocked card tokens and the salt to compute them. */
export const cardBlacklistConfig = z.object({
  version: z.number().int().nonnegative(),
  /** base64 of the fleet salt: cardHash = hex(SHA-256(salt ‖ UTF-8(PAN))). */
  salt: z.string().min(1).max(200),
  hashes: z.array(z.string().regex(CARD_HASH_PATTERN)).max(20_000),
});
export type CardBlacklistConfig = z.infer<typeof cardBlacklistConfig>;

/** `binding.set`: the token, and the new merchant's policy so that both arrive in one command. */
export const bindingSetPayload = z.object({
  token: z.string().min(1).max(16_384),
  /** A re-binding: clear the previous merchant's data on the terminal before taking the new one. */
  wipe: z.boolean().optional(),
  txnPolicy: terminalPolicy.optional(),
  cardBlacklist: cardBlacklistConfig.optional(),
});
export type BindingSetPayload = z.infer<typeof bindingSetPayload>;

/** `lock` / `unlock` from the merchant module: `version` orders them (an older one is ignored). */
export const lockPayload = z.object({
  version: z.number().int().positive().optional(),
  reasons: z.array(z.string().max(64)).max(20).optional(),
  reason: z.string().max(500).optional(),
});
export type LockPayload = z.infer<typeof lockPayload>;

export const CONFIG_KEY_POLICY = 'txnPolicy';
export const CONFIG_KEY_CARD_BLACKLIST = 'cardBlacklist';

// ---------------------------------------------------------------------------------------------
// `event` of type `txn`: one per transaction attempt (approved or declined).

export const txnDeclineReasons = [
  'unbound',
  'locked',
  'wrong_merchant',
  'unknown_sub_merchant',
  'card_blocked',
  'currency',
  'single_limit',
  'daily_count_limit',
  'daily_amount_limit',
  /** A PIN payment the terminal cannot encipher: its DUKPT initial key is used up (docs/keys.md "DUKPT injection"). */
  'pin_unavailable',
] as const;
export type TxnDeclineReason = (typeof txnDeclineReasons)[number];

export const txnEventData = z.object({
  txnId: z.string().min(1).max(64),
  merchantId: z.string().max(64).optional(),
  subMerchantId: z.string().max(64).optional(),
  amountMinor: z.number().int().nonnegative(),
  currency: z.string().regex(CURRENCY_PATTERN),
  result: z.enum(['approved', 'declined']),
  reason: z.enum(txnDeclineReasons).optional(),
  cardHash: z.string().regex(CARD_HASH_PATTERN).optional(),
  day: z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}$/)
    .optional(),
});
export type TxnEventData = z.infer<typeof txnEventData>;

/** The local calendar day (YYYY-MM-DD) of `ms` in an IANA zone; UTC when the zone is unknown. */
export function localDay(ms: number, timeZone: string): string {
  try {
    return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(ms);
  } catch {
    return new Date(ms).toISOString().slice(0, 10);
  }
}

export function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}
