// Whom a terminal trusts after enrollment: the firmware publishers whose signatures it accepts
// and the brokers it gives its credentials to. Both are pinned at enrollment; the server hands
// newer lists over the authenticated command channel (`trust.set`) when the fingerprints a
// terminal reports in its `state` differ from its own (docs/protocol.md, docs/ota.md).
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { ed25519PublicKey } from './ota.ts';

export const MAX_FIRMWARE_PUBLISHERS = 16;
export const MAX_BROKER_URLS = 8;

export const firmwarePublisherKey = z
  .string()
  .max(64)
  .refine((k) => ed25519PublicKey(k) !== null, 'must be base64 of a raw 32-byte Ed25519 public key');

export const brokerUrl = z
  .string()
  .max(2048)
  .regex(/^(mqtts?|wss?):\/\/[^\s/]+/, 'must be an mqtt://, mqtts://, ws:// or wss:// URL');

/** Payload of `trust.set`: each list present replaces the terminal's pinned one. */
export const trustSetPayload = z
  .object({
    firmwarePublishers: z.array(firmwarePublisherKey).max(MAX_FIRMWARE_PUBLISHERS).optional(),
    /** Primary first, then fallbacks tried in order when the one in use cannot be reached. */
    brokerUrls: z.array(brokerUrl).min(1).max(MAX_BROKER_URLS).optional(),
  })
  .strict()
  .refine((p) => p.firmwarePublishers !== undefined || p.brokerUrls !== undefined, 'needs firmwarePublishers or brokerUrls');
export type TrustSetPayload = z.infer<typeof trustSetPayload>;

const fingerprint = z.string().regex(/^[0-9a-f]{16}$/, 'must be 16 lower-case hex characters');

/** What a terminal reports in its `state` message (field `trust`). */
export const trustReport = z.object({ publishers: fingerprint, brokers: fingerprint }).partial();
export type TrustReport = z.infer<typeof trustReport>;

const digest = (items: readonly string[]) => createHash('sha256').update(JSON.stringify(items)).digest('hex').slice(0, 16);

/** Publishers are a set: order and repeats do not change what a terminal accepts. */
export const publishersFingerprint = (keys: readonly string[]): string => digest([...new Set(keys)].sort());

/** Brokers are an ordered list: the first is tried first. */
export const brokersFingerprint = (urls: readonly string[]): string => digest(urls);
