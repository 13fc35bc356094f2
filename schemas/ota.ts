// Firmware OTA contract shared by the server and the agent (SPEC §4, docs/ota.md): the signed
// manifest, its canonical form, signature checks, and the `ota.install` command payload.
import { createPublicKey, verify as verifySignature } from 'node:crypto';
import { z } from 'zod';
import { canonicalJson } from './canonicalJson.ts';

const SEMVER = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$/;

export const firmwareManifest = z
  .object({
    name: z.string().min(1).max(100),
    version: z.string().max(64).regex(SEMVER, 'must be a semantic version (1.2.3)'),
    models: z.array(z.string().min(1).max(64)).min(1).max(200),
    size: z
      .number()
      .int()
      .positive()
      .max(4 * 1024 ** 3),
    sha256: z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lower-case hex characters'),
  })
  .strict();
export type FirmwareManifest = z.infer<typeof firmwareManifest>;

/** What a publisher signs: the manifest's canonical JSON, UTF-8 (firmware and app manifests alike). */
export const manifestBytes = (m: FirmwareManifest | SignedManifest): Buffer => Buffer.from(canonicalJson(m), 'utf8');

/** An Ed25519 public key object from base64 of its raw 32 bytes; null when it is not one. */
export function ed25519PublicKey(rawBase64: string) {
  const raw = Buffer.from(rawBase64, 'base64');
  if (raw.length !== 32) return null;
  try {
    return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: raw.toString('base64url') }, format: 'jwk' });
  } catch {
    return null;
  }
}

/** Any manifest signed the firmware way (an app package's too, schemas/apps.ts): a JSON object. */
export type SignedManifest = { readonly [k: string]: string | number | readonly string[] };

/** The publisher key (base64 raw) whose signature over the manifest holds, or null. */
export function manifestSigner(manifest: FirmwareManifest | SignedManifest, signatureBase64: string, publisherKeys: readonly string[]): string | null {
  const sig = Buffer.from(signatureBase64, 'base64');
  if (sig.length !== 64) return null;
  const data = manifestBytes(manifest);
  for (const k of publisherKeys) {
    const key = ed25519PublicKey(k);
    if (key && verifySignature(null, data, key, sig)) return k;
  }
  return null;
}

export const otaModes = ['forced', 'soft', 'download_only'] as const;
export type OtaMode = (typeof otaModes)[number];

const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be HH:MM (24 h)');
export const maintenanceWindow = z.object({ start: hhmm, end: hhmm }).strict();
export type MaintenanceWindow = z.infer<typeof maintenanceWindow>;

/** Payload of the `ota.install` command. */
export const otaInstallPayload = z.object({
  firmwareId: z.string().min(1),
  version: z.string().min(1),
  size: z.number().int().positive(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  manifest: firmwareManifest,
  signature: z.string().min(1),
  /** Signed, expiring link for this device: fetch with no further credentials; supports Range. */
  url: z.string().min(1),
  /** forced: install as soon as the checks allow; soft: only while idle and in the window;
   *  download_only: fetch and verify into the inactive slot, do not switch. Default forced. */
  mode: z.enum(otaModes).default('forced'),
  /** Terminal local time; outside it the agent acks `deferred` (reason `outside_window`). */
  window: maintenanceWindow.optional(),
  /** Set on a rollback (onErrorThreshold: rollback): the version installed is an older one. */
  rollback: z.boolean().optional(),
  campaignId: z.string().optional(),
  attempt: z.number().int().positive().optional(),
});
export type OtaInstallPayload = z.infer<typeof otaInstallPayload>;

/** Stages an agent reports in `in_progress` acks, in order. */
export const otaStages = ['checking', 'downloading', 'verifying', 'installing', 'rebooting', 'selftest', 'committing'] as const;
export type OtaStage = (typeof otaStages)[number];

/** error.code values of a failed / rejected / deferred ota.install ack. */
export const otaErrorCodes = [
  'incompatible',
  'low_battery',
  'no_space',
  'busy',
  'settlement_open',
  'outside_window',
  'download_failed',
  'hash_mismatch',
  'bad_signature',
  'install_failed',
  'selftest_failed',
  'rolled_back',
  'interrupted',
  'aborted',
] as const;
export type OtaErrorCode = (typeof otaErrorCodes)[number];

/** Failures worth another try later (the same image, a new command): the rest are permanent. */
export const transientOtaErrors: readonly string[] = [
  'download_failed',
  'busy',
  'settlement_open',
  'low_battery',
  'interrupted',
  'outside_window',
  'expired',
];

/** `result` of a final ota.install ack: what the terminal runs now (device-reported truth). */
export const otaResult = z.looseObject({ version: z.string(), slot: z.enum(['A', 'B']).optional() });
