// Command payloads by command type: the one map the server creates commands from and the agent's
// dispatcher parses payloads with before a handler runs (docs/protocol.md §5). The wire envelope
// (schemas/wire.ts `commandMessage`) carries the payload as a plain object because its type is
// only known once the envelope is read; everything after that reads the payload through here.
import { z } from 'zod';
import { appInstallPayload, appUninstallPayload } from './apps.ts';
import { bindingSetPayload, cardBlacklistConfig, CONFIG_KEY_CARD_BLACKLIST, lockPayload } from './binding.ts';
import { trustSetPayload } from './deviceTrust.ts';
import { keysInstallPayload, keysZeroizePayload } from './keys.ts';
import { otaInstallPayload } from './ota.ts';
import { parametersPush } from './parameters.ts';
import { cancelCommandPayload, type CommandType } from './wire.ts';

export const selfTestComponents = ['printer', 'cardReader', 'storage', 'network'] as const;
export type SelfTestComponent = (typeof selfTestComponents)[number];

/** `diag.run`: the components to test; all of them when absent. */
export const diagRunPayload = z.object({ components: z.array(z.enum(selfTestComponents)).min(1).optional() });

/** `logs.upload`: a pre-signed URL the bundle is PUT to, so the upload carries no device credentials. */
export const logsUploadPayload = z.object({
  url: z.string().regex(/^https?:\/\//, 'must be an http(s) URL'),
  /** Set by `POST /v1/devices/{id}/logs`: the bundle the upload completes. */
  bundleId: z.string().max(64).optional(),
});

/**
 * `config.set`: settings merged into the agent's stored config. Keys other than the known ones
 * are kept for the handlers that read them (the merchant policy, the card blacklist). `parameters`
 * is a terminal-parameter set to validate against the fields it carries and apply (docs/parameters.md).
 */
export const configSetPayload = z
  .object({ healthIntervalS: z.number().int().min(1).max(86_400).optional(), parameters: parametersPush.optional() })
  .catchall(z.unknown());

/** `reboot` takes nothing. */
export const rebootPayload = z.object({});

const payloadSchemas = {
  'ota.install': otaInstallPayload,
  'keys.install': keysInstallPayload,
  'keys.zeroize': keysZeroizePayload,
  'binding.set': bindingSetPayload,
  lock: lockPayload,
  unlock: lockPayload,
  reboot: rebootPayload,
  'diag.run': diagRunPayload,
  'logs.upload': logsUploadPayload,
  'config.set': configSetPayload,
  cancel: cancelCommandPayload,
  'trust.set': trustSetPayload,
  'app.install': appInstallPayload,
  'app.uninstall': appUninstallPayload,
} as const satisfies Record<CommandType, z.ZodType>;

/** A payload as it is sent (defaults not yet applied). */
export type CommandPayload<T extends CommandType> = z.input<(typeof payloadSchemas)[T]>;
/** A payload as a handler receives it, parsed by its type's schema. */
export type ParsedPayload<T extends CommandType> = z.output<(typeof payloadSchemas)[T]>;

/**
 * The payload schema of each command type. Typed as a mapped type so that indexing it with a
 * type parameter keeps the link between a type and its payload.
 */
export const commandPayloadSchemas: { readonly [T in CommandType]: z.ZodType<ParsedPayload<T>, CommandPayload<T>> } = payloadSchemas;

/** A command to create: its type and that type's payload. */
export interface CommandOf<T extends CommandType = CommandType> {
  type: T;
  payload: CommandPayload<T>;
}

/** One of every command type: what a caller holding commands of several types passes around. */
export type AnyCommand = { [T in CommandType]: CommandOf<T> }[CommandType];

/** A payload refused by its type's schema: each issue with its path from the payload's root. */
export interface PayloadIssue {
  path: string;
  message: string;
}

export type PayloadCheck<T extends CommandType> = { ok: true; payload: ParsedPayload<T> } | { ok: false; issues: PayloadIssue[] };

export function parseCommandPayload<T extends CommandType>(type: T, payload: unknown): PayloadCheck<T> {
  const parsed = commandPayloadSchemas[type].safeParse(payload);
  if (parsed.success) return { ok: true, payload: parsed.data };
  return { ok: false, issues: parsed.error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message })) };
}

// ---------------------------------------------------------------------------------------------
// What no API answer may show of a payload, by type (SPEC §5: no key material, wrapped or clear).
// A signed link's `sig` would let anyone who reads it download the image or upload a bundle as
// the terminal; the card blacklist's salt beside its hashes would let anyone brute-force the
// blocked card numbers offline. The rest of the payload stays visible.

const REDACTED = '[redacted]';
const linkSignature = /([?&]sig=)[^&#]*/g;
const unsignedLink = (url: string) => url.replace(linkSignature, `$1${REDACTED}`);

function withoutSalt(blacklist: unknown): unknown {
  if (blacklist === undefined) return undefined;
  const parsed = cardBlacklistConfig.safeParse(blacklist);
  return parsed.success ? { ...parsed.data, salt: REDACTED } : REDACTED;
}

type Redaction<T extends CommandType> = (payload: ParsedPayload<T>) => Record<string, unknown>;
const redactions: { readonly [T in CommandType]?: Redaction<T> } = {
  'keys.install': (p) => ({ ...p, items: p.items.map((item) => ({ ...item, block: REDACTED })) }),
  'ota.install': (p) => ({ ...p, url: unsignedLink(p.url) }),
  'logs.upload': (p) => ({ ...p, url: unsignedLink(p.url) }),
  'binding.set': (p) => (p.cardBlacklist ? { ...p, cardBlacklist: withoutSalt(p.cardBlacklist) } : p),
  'config.set': (p) =>
    CONFIG_KEY_CARD_BLACKLIST in p ? { ...p, [CONFIG_KEY_CARD_BLACKLIST]: withoutSalt(p[CONFIG_KEY_CARD_BLACKLIST]) } : p,
};

const isCommandType = (type: string): type is CommandType => Object.hasOwn(payloadSchemas, type);

function redactAs<T extends CommandType, C extends { payload: unknown }>(cmd: C, type: T): C {
  const redact = redactions[type];
  if (!redact) return cmd;
  const parsed = parseCommandPayload(type, cmd.payload);
  // A payload its own schema refuses cannot be told apart from its secrets: none of it is shown.
  return { ...cmd, payload: parsed.ok ? redact(parsed.payload) : { redacted: true } };
}

/** The command as an API answer may show it: secret payload fields replaced by `[redacted]`. */
export function redactCommand<C extends { type: string; payload: unknown }>(cmd: C): C {
  return isCommandType(cmd.type) ? redactAs(cmd, cmd.type) : cmd;
}
