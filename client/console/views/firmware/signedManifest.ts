// What the operator pasted or loaded, read into the body of POST /v1/firmware or /v1/apps: the
// signing tools write {manifest, signature}; a bare manifest takes the signature typed beside it.
// Checked here with the manifests' own schemas so a typo is named before anything is sent; the
// signature itself is judged by the server, which holds the publisher keys.
import { z } from 'zod';
import { appManifest } from '../../../../schemas/apps.ts';
import { firmwareManifest } from '../../../../schemas/ota.ts';

export const artifactKinds = {
  firmware: { label: 'Firmware image', path: '/v1/firmware' },
  apps: { label: 'Payment app package', path: '/v1/apps' },
} as const;
export type ArtifactKind = keyof typeof artifactKinds;
export const artifactKindList: ArtifactKind[] = ['firmware', 'apps'];

export type SignedBody =
  | { kind: 'firmware'; manifest: z.infer<typeof firmwareManifest>; signature: string }
  | { kind: 'apps'; manifest: z.infer<typeof appManifest>; signature: string };

export type ReadResult = { ok: true; body: SignedBody } | { ok: false; message: string };

const issuesText = (error: z.ZodError) => error.issues.map((i) => `${i.path.join('.') || 'manifest'}: ${i.message}`).join('; ');

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The signed body, or why not, from the JSON text and the separate signature field (may be empty). */
export function readSignedManifest(kind: ArtifactKind, text: string, signatureField: string): ReadResult {
  if (!text.trim()) return { ok: false, message: 'Paste the signed manifest JSON, or load the file the signing tool wrote.' };
  const json = parseJson(text);
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return { ok: false, message: 'The manifest is not a JSON object.' };
  const wrapped = 'manifest' in json ? json.manifest : json;
  const inFile = 'signature' in json && typeof json.signature === 'string' ? json.signature : '';
  const signature = signatureField.trim() || inFile;
  if (!signature) return { ok: false, message: 'No signature: the JSON has none and the signature field is empty.' };
  if (kind === 'firmware') {
    const m = firmwareManifest.safeParse(wrapped);
    return m.success
      ? { ok: true, body: { kind, manifest: m.data, signature } }
      : { ok: false, message: `Not a firmware manifest: ${issuesText(m.error)}` };
  }
  const m = appManifest.safeParse(wrapped);
  return m.success
    ? { ok: true, body: { kind, manifest: m.data, signature } }
    : { ok: false, message: `Not an app manifest: ${issuesText(m.error)}` };
}

/** Why this image cannot be the manifest's, before hundreds of megabytes travel; null when it may be. */
export function imageMismatch(manifestSize: number, image: { size: number; name: string }): string | null {
  return image.size === manifestSize
    ? null
    : `${image.name} is ${image.size} bytes; the manifest says ${manifestSize}. Pick the image that was signed.`;
}
