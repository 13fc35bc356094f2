/** @jsxImportSource preact */
// Publishing a signed artifact: the signed manifest (pasted, or loaded from the file the signing
// tool wrote) and the image; the page registers the manifest, then uploads the image with
// progress. A refusal shows the server's code and what it means.
import { useState } from 'preact/hooks';
import { ApiError } from '../../../apiClient.ts';
import { appSchema } from '../../../../server/apps/appRoutes.ts';
import { firmwareSchema } from '../../../../server/firmware/firmwareRoutes.ts';
import { api } from '../../session.ts';
import { ErrorBox, Field } from '../../ui.tsx';
import { uploadContent, type UploadProgress } from '../../upload.ts';
import type { ViewContext } from '../../viewContract.ts';
import { uploadRefusals } from './refusals.ts';
import {
  artifactKindList,
  artifactKinds,
  imageMismatch,
  readSignedManifest,
  type ArtifactKind,
  type SignedBody,
} from './signedManifest.ts';

type Phase = 'idle' | 'registering' | 'uploading';

/** What a publication did: the artifact, and whether its content had been uploaded before. */
interface Published {
  label: string;
  uploadedBefore: boolean;
}

/** POST the manifest, then PUT the image unless the same manifest was registered and uploaded before. */
async function publish(signed: SignedBody, image: Blob, uploading: (p: UploadProgress) => void): Promise<Published> {
  const content = (id: string) => `${artifactKinds[signed.kind].path}/${encodeURIComponent(id)}/content`;
  const start = () => uploading({ sent: 0, total: image.size });
  if (signed.kind === 'firmware') {
    const { manifest, signature } = signed;
    const fw = await api.call(firmwareSchema, 'POST', '/v1/firmware', { body: { manifest, signature } });
    const label = `${fw.name} ${fw.version}`;
    if (fw.state === 'ready') return { label, uploadedBefore: true };
    start();
    await uploadContent(firmwareSchema, content(fw.id), image, uploading);
    return { label, uploadedBefore: false };
  }
  const { manifest, signature } = signed;
  const app = await api.call(appSchema, 'POST', '/v1/apps', { body: { manifest, signature } });
  const label = `${app.packageName} ${app.version}`;
  if (app.state === 'ready') return { label, uploadedBefore: true };
  start();
  await uploadContent(appSchema, content(app.id), image, uploading);
  return { label, uploadedBefore: false };
}

function manifestSummary(signed: SignedBody): string {
  const m = signed.manifest;
  const name = signed.kind === 'firmware' ? signed.manifest.name : signed.manifest.packageName;
  return `${name} ${m.version} for ${m.models.join(', ')}, ${m.size.toLocaleString('en')} bytes, SHA-256 ${m.sha256.slice(0, 12)}…`;
}

export function UploadForm({ ctx, onPublished }: { ctx: ViewContext; onPublished(kind: ArtifactKind): void }) {
  const [kind, setKind] = useState<ArtifactKind>('firmware');
  const [text, setText] = useState('');
  const [signature, setSignature] = useState('');
  const [image, setImage] = useState<File | null>(null);
  const [phase, setPhase] = useState<Phase>('idle');
  const [progress, setProgress] = useState<UploadProgress | null>(null);
  const [problem, setProblem] = useState<unknown>(null);
  const [done, setDone] = useState<string | null>(null);
  const read = text.trim() ? readSignedManifest(kind, text, signature) : null;
  const busy = phase !== 'idle';

  const loadManifestFile = async (e: Event) => {
    const input = e.currentTarget;
    const file = input instanceof HTMLInputElement ? input.files?.[0] : undefined;
    if (file) setText(await file.text());
  };

  const submit = async (e: Event) => {
    e.preventDefault();
    setProblem(null);
    setDone(null);
    const signed = readSignedManifest(kind, text, signature);
    if (!signed.ok) return setProblem(new Error(signed.message));
    if (!image) return setProblem(new Error('Pick the image file that was signed.'));
    const mismatch = imageMismatch(signed.body.manifest.size, image);
    if (mismatch) return setProblem(new Error(mismatch));
    try {
      setPhase('registering');
      const published = await publish(signed.body, image, (p) => {
        setPhase('uploading');
        setProgress(p);
      });
      const message = published.uploadedBefore
        ? `${published.label} was registered and uploaded before: nothing to do.`
        : `${published.label} is uploaded and ready.`;
      setDone(message);
      ctx.announce(message);
      ctx.toast(message, 'success');
      onPublished(kind);
    } catch (err) {
      setProblem(err);
      onPublished(kind); // a registration that stopped at the upload is listed as awaiting content
    } finally {
      setPhase('idle');
      setProgress(null);
    }
  };

  const code = problem instanceof ApiError ? problem.code : undefined;
  const percent = progress && progress.total ? Math.round((progress.sent / progress.total) * 100) : 0;
  return (
    <form class="card form-stack upload-form" aria-labelledby="upload-title" onSubmit={submit}>
      <h2 id="upload-title">Publish a signed image</h2>
      <fieldset class="segmented" disabled={busy}>
        <legend class="visually-hidden">What it is</legend>
        {artifactKindList.map((k) => (
          <>
            <input id={`up-kind-${k}`} type="radio" name="kind" value={k} checked={kind === k} onChange={() => setKind(k)} />
            <label for={`up-kind-${k}`}>{artifactKinds[k].label}</label>
          </>
        ))}
      </fieldset>
      <Field label="Signed manifest file (optional)" id="up-manifest-file">
        <input id="up-manifest-file" type="file" accept=".json,application/json" disabled={busy} onChange={loadManifestFile} />
      </Field>
      <label for="up-manifest">Signed manifest JSON</label>
      <textarea
        id="up-manifest"
        rows={7}
        spellcheck={false}
        disabled={busy}
        placeholder='{"manifest": {…}, "signature": "…"} as the signing tool wrote it'
        value={text}
        onInput={(e) => setText(e.currentTarget.value)}
        aria-describedby="up-manifest-read"
      />
      <p id="up-manifest-read" class="hint" data-valid={read ? String(read.ok) : undefined}>
        {read
          ? read.ok
            ? `Reads as: ${manifestSummary(read.body)}`
            : read.message
          : 'The manifest is checked here before anything is sent.'}
      </p>
      <label for="up-signature">Signature (only if the JSON above has none)</label>
      <input
        id="up-signature"
        type="text"
        spellcheck={false}
        autocomplete="off"
        disabled={busy}
        value={signature}
        onInput={(e) => setSignature(e.currentTarget.value)}
      />
      <label for="up-image">Image file</label>
      <input id="up-image" type="file" disabled={busy} onChange={(e) => setImage(e.currentTarget.files?.[0] ?? null)} />
      <div class="actions">
        <button type="submit" class="btn btn-primary" disabled={busy}>
          {phase === 'registering' ? 'Registering…' : phase === 'uploading' ? 'Uploading…' : 'Register and upload'}
        </button>
      </div>
      {phase === 'uploading' && progress ? (
        <p class="upload-progress">
          <label for="up-progress">Upload</label> <progress id="up-progress" max={progress.total} value={progress.sent} /> {percent}%
        </p>
      ) : null}
      {problem ? <ErrorBox error={problem} /> : null}
      {code && uploadRefusals[code] ? <p class="hint refusal-help">{uploadRefusals[code]}</p> : null}
      {done ? (
        <p class="note" role="status">
          {done}
        </p>
      ) : null}
    </form>
  );
}
