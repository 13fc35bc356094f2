// A random firmware image with its manifest signed by a publisher key, as a firmware publisher
// would hand it to the server, and a tiny HTTP server that serves it the way agents download it.
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { signManifest } from '../../scripts/sign-firmware.ts';
import type { FirmwareManifest } from '../../schemas/ota.ts';

export interface SignedImage {
  image: Buffer<ArrayBuffer>;
  manifest: FirmwareManifest;
  /** The publisher's signature of `manifest`. */
  signature: string;
}

export function signedImage(publisher: { privateKeyPem: string }, size: number, version = '2.0.0', models = ['PAX-A920']): SignedImage {
  const image = randomBytes(size);
  const manifest: FirmwareManifest = { name: 'pos-os', version, models, size, sha256: createHash('sha256').update(image).digest('hex') };
  return { image, manifest, signature: signManifest(manifest, publisher.privateKeyPem) };
}

export interface ImageServer {
  /** `http://127.0.0.1:<port>`; every path serves the image. */
  base: string;
  close(): Promise<void>;
}

/**
 * Serves `image` on a free port, honouring `Range: bytes=<start>-` like a firmware CDN; `send`
 * writes the body from `start` (by default all at once), e.g. throttled.
 */
export async function startImageServer(
  image: Buffer,
  opts: { onRequest?: (req: IncomingMessage) => void; send?: (req: IncomingMessage, res: ServerResponse, start: number) => void } = {},
): Promise<ImageServer> {
  const http = createServer((req, res) => {
    opts.onRequest?.(req);
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    const start = m ? Number(m[1]) : 0;
    res.writeHead(m ? 206 : 200, {
      'content-length': String(image.length - start),
      ...(m ? { 'content-range': `bytes ${start}-${image.length - 1}/${image.length}` } : {}),
    });
    if (opts.send) opts.send(req, res, start);
    else res.end(image.subarray(start));
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', () => r()));
  const { port } = http.address() as AddressInfo;
  return {
    base: `http://127.0.0.1:${port}`,
    async close() {
      http.closeAllConnections();
      await new Promise<void>((r) => http.close(() => r()));
    },
  };
}
