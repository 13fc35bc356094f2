// Payment-app packages (docs/apps.md): a signed manifest in the firmware way (schemas/ota.ts: the
// same canonical JSON, the same Ed25519 publisher keys, the same check), the `app.install` and
// `app.uninstall` commands, and the inventory a terminal reports on its state topic.
import { z } from 'zod';
import { manifestBytes, manifestSigner } from './ota.ts';

const SEMVER = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$/;
export const isSemver = (v: string | null | undefined): v is string => v != null && SEMVER.test(v);
const semver = z.string().max(64).regex(SEMVER, 'must be a semantic version (1.2.3)');
/** Reverse-DNS: at least two dot-separated labels of letters, digits, `_` and `-`, starting with a letter. */
export const PACKAGE_NAME = /^[a-z][a-z0-9_-]*(\.[a-z0-9][a-z0-9_-]*)+$/;
export const packageName = z.string().min(3).max(128).regex(PACKAGE_NAME, 'must be a reverse-DNS name (com.acme.emv)');

export const appManifest = z
  .object({
    packageName,
    version: semver,
    models: z.array(z.string().min(1).max(64)).min(1).max(200),
    /** The lowest firmware version the app runs on. */
    minFirmware: semver,
    size: z
      .number()
      .int()
      .positive()
      .max(1024 ** 3),
    sha256: z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lower-case hex characters'),
  })
  .strict();
export type AppManifest = z.infer<typeof appManifest>;

/** What a publisher signs: the manifest's canonical JSON, UTF-8 (as for firmware). */
export const appManifestBytes = (m: AppManifest): Buffer => manifestBytes(m);
/** The pinned publisher key (base64 raw) whose signature over the app manifest holds, or null. */
export const appManifestSigner = (m: AppManifest, signatureBase64: string, keys: readonly string[]): string | null =>
  manifestSigner(m, signatureBase64, keys);

/** Payload of `app.install` (an update is an install of a newer version over the old one). */
export const appInstallPayload = z.object({
  appId: z.string().min(1).max(64),
  packageName,
  version: semver,
  /** Signed, expiring link for this device (as firmware's): no further credentials; Range supported. */
  url: z.string().min(1),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  manifest: appManifest,
  signature: z.string().min(1).max(200),
  campaignId: z.string().optional(),
  attempt: z.number().int().positive().optional(),
});
export type AppInstallPayload = z.infer<typeof appInstallPayload>;

/** Payload of `app.uninstall`. */
export const appUninstallPayload = z.object({
  packageName,
  campaignId: z.string().optional(),
  attempt: z.number().int().positive().optional(),
});
export type AppUninstallPayload = z.infer<typeof appUninstallPayload>;

/** Stages of `in_progress` acks of app.install, in order. */
export const appStages = ['downloading', 'installing'] as const;

/** error.code values of a failed app.install / app.uninstall ack. */
export const appErrorCodes = ['hash_mismatch', 'bad_signature', 'incompatible', 'no_space', 'download_failed', 'not_installed'] as const;
export type AppErrorCode = (typeof appErrorCodes)[number];
/** Worth another try later with a new command; the rest are permanent. */
export const transientAppErrors: readonly string[] = ['download_failed'];

/** One installed app as a terminal reports it. */
export const installedApp = z.object({ packageName, version: semver }).strict();
export type InstalledApp = z.infer<typeof installedApp>;
/** `apps` member of the state message (extension, docs/apps.md): the whole inventory every time. */
export const appInventory = z.array(installedApp).max(100);
export type AppInventory = z.infer<typeof appInventory>;

/** `result` of a final app.install / app.uninstall ack: the package and what is installed now (null: none). */
export const appResult = z.looseObject({ packageName, version: semver.nullable() });

/** Semantic versions by precedence of their numeric core (pre-release before the release). */
export function compareSemver(a: string, b: string): number {
  const parse = (v: string) => {
    const [core, pre] = v.split('+')[0]!.split(/-(.*)/s);
    return { nums: core!.split('.').map(Number), pre: pre ?? null };
  };
  const x = parse(a);
  const y = parse(b);
  for (let i = 0; i < 3; i++) if ((x.nums[i] ?? 0) !== (y.nums[i] ?? 0)) return (x.nums[i] ?? 0) < (y.nums[i] ?? 0) ? -1 : 1;
  if (x.pre === y.pre) return 0;
  if (x.pre === null) return 1;
  if (y.pre === null) return -1;
  return x.pre < y.pre ? -1 : 1;
}
