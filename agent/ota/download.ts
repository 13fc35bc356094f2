// Resumable download into a `.part` file: a Range request continues from what is already on
// disk, and a cut connection is retried from where it stopped. The image is streamed to disk,
// never held whole in memory. An AbortSignal (a `cancel` from the server) stops it at once:
// the request is torn down and DownloadAborted thrown; the caller removes the `.part`.
import { createWriteStream, existsSync, statSync, truncateSync } from 'node:fs';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';

export class DownloadError extends Error {
  constructor(
    message: string,
    readonly permanent = false,
  ) {
    super(message);
    this.name = 'DownloadError';
  }
}

/** The download was stopped by its AbortSignal; never retried. */
export class DownloadAborted extends Error {
  constructor() {
    super('download aborted');
    this.name = 'DownloadAborted';
  }
}

export interface DownloadOptions {
  url: string;
  path: string;
  size: number;
  ca?: string | Buffer;
  /** Attempts within one command before giving up (download_failed). */
  attempts?: number;
  timeoutMs?: number;
  onProgress?(bytes: number): void;
  onRequest?(from: number): void;
  sleep?(ms: number): Promise<void>;
  /** Aborts the download (and any wait between attempts). */
  signal?: AbortSignal;
}

const realSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A pause that ends early when `signal` aborts. */
function pause(sleep: (ms: number) => Promise<void>, ms: number, signal: AbortSignal | undefined): Promise<void> {
  if (!signal) return sleep(ms);
  return new Promise<void>((resolve) => {
    const done = () => {
      signal.removeEventListener('abort', done);
      resolve();
    };
    signal.addEventListener('abort', done, { once: true });
    void sleep(ms).then(done);
  });
}

/** One GET of the image (with a Range header when `headers` has one). */
export function requestImage(
  url: URL,
  headers: Record<string, string>,
  ca: string | Buffer | undefined,
  timeoutMs: number,
  signal: AbortSignal | undefined,
): Promise<IncomingMessage> {
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(url, { method: 'GET', headers, ...(ca ? { ca } : {}), ...(signal ? { signal } : {}), timeout: timeoutMs }, resolve);
    req.on('timeout', () => req.destroy(new Error(`timeout after ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

export async function downloadResumable(o: DownloadOptions): Promise<void> {
  const url = new URL(o.url);
  const attempts = o.attempts ?? 4;
  const sleep = o.sleep ?? realSleep;
  let lastError = 'no attempt';
  const signal = o.signal;
  for (let attempt = 0; attempt < attempts; attempt++) {
    if (signal?.aborted) throw new DownloadAborted();
    let have = existsSync(o.path) ? statSync(o.path).size : 0;
    if (have > o.size) {
      truncateSync(o.path, 0);
      have = 0;
    }
    if (have === o.size) return;
    o.onRequest?.(have);
    try {
      const res = await requestImage(url, have > 0 ? { range: `bytes=${have}-` } : {}, o.ca, o.timeoutMs ?? 30_000, signal);
      if (res.statusCode === 200 && have > 0) {
        // The server ignored the range: start again from zero.
        truncateSync(o.path, 0);
        have = 0;
      } else if (res.statusCode === 416) {
        res.resume();
        truncateSync(o.path, 0);
        continue;
      } else if (res.statusCode !== 200 && res.statusCode !== 206) {
        res.resume();
        const permanent = res.statusCode === 403 || res.statusCode === 404 || res.statusCode === 401;
        throw new DownloadError(`HTTP ${res.statusCode}`, permanent);
      }
      await new Promise<void>((resolve, reject) => {
        const out = createWriteStream(o.path, { flags: have > 0 ? 'a' : 'w', mode: 0o600 });
        let got = have;
        let failed: Error | null = null;
        const onAbort = () => stop(new DownloadAborted());
        const stop = (err: Error) => {
          if (failed) return;
          failed = err;
          signal?.removeEventListener('abort', onAbort);
          res.destroy();
          out.end(() => reject(err));
        };
        if (signal?.aborted) return stop(new DownloadAborted());
        signal?.addEventListener('abort', onAbort, { once: true });
        res.on('data', (chunk: Buffer) => {
          if (failed) return;
          got += chunk.length;
          o.onProgress?.(got);
          if (!out.write(chunk)) {
            res.pause();
            out.once('drain', () => res.resume());
          }
        });
        res.on('error', (err) => stop(err));
        res.on('aborted', () => stop(new Error('connection aborted')));
        res.on('end', () => {
          if (failed) return;
          signal?.removeEventListener('abort', onAbort);
          out.end(() => (res.complete ? resolve() : reject(new Error('incomplete response'))));
        });
        out.on('error', (err) => stop(err));
      });
    } catch (err) {
      if (signal?.aborted || err instanceof DownloadAborted) throw new DownloadAborted();
      if (err instanceof DownloadError && err.permanent) throw err;
      lastError = (err as Error).message;
      await pause(sleep, Math.min(5000, 200 * 2 ** attempt), signal);
      continue;
    }
    if (statSync(o.path).size >= o.size) return;
  }
  throw new DownloadError(`download failed after ${attempts} attempts: ${lastError}`);
}
