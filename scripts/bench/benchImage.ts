// The firmware image the rollout benches install: random bytes of the given size, its manifest
// signed by the bench's publisher key, registered and uploaded through the API.
import { createHash, randomBytes } from 'node:crypto';
import { signManifest, type generatePublisherKey } from '../sign-firmware.ts';
import type { Api } from './api.ts';
import { createdAnswer } from './campaignRun.ts';
import { benchModel } from './fleet.ts';

/** The new firmware's id, ready to roll out. */
export async function uploadBenchImage(
  api: Api,
  publisher: ReturnType<typeof generatePublisherKey>,
  bytes: number,
  version = '2.0.0',
): Promise<string> {
  const image = randomBytes(bytes);
  const manifest = {
    name: 'bench-os',
    version,
    models: [benchModel],
    size: bytes,
    sha256: createHash('sha256').update(image).digest('hex'),
  };
  const fw = await api.admin(
    'POST',
    '/v1/firmware',
    { manifest, signature: signManifest(manifest, publisher.privateKeyPem) },
    createdAnswer,
  );
  await api.upload(`/v1/firmware/${fw.id}/content`, image);
  return fw.id;
}
