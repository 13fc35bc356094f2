// Minimal HTTP(S) client. node:https rather than fetch because the agent pins its own CA
// (`--ca`), which global fetch cannot take without an extra dispatcher dependency.
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

export interface HttpRequest {
  method: 'GET' | 'POST' | 'PUT';
  url: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** PEM of the CA to trust instead of the system store. */
  ca?: string | Buffer;
  timeoutMs?: number;
}

export interface HttpResponse {
  status: number;
  body: string;
}

const MAX_RESPONSE_BYTES = 1024 * 1024;

export function httpSend(req: HttpRequest): Promise<HttpResponse> {
  const url = new URL(req.url);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return Promise.reject(new Error(`unsupported URL scheme ${url.protocol}`));
  }
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  const body = req.body === undefined ? undefined : Buffer.from(req.body);
  const headers = { ...req.headers, ...(body ? { 'content-length': String(body.length) } : {}) };
  return new Promise((resolve, reject) => {
    const r = send(
      url,
      { method: req.method, headers, ...(req.ca ? { ca: req.ca } : {}), timeout: req.timeoutMs ?? 15_000 },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > MAX_RESPONSE_BYTES) res.destroy(new Error('response too large'));
          else chunks.push(c);
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    r.on('timeout', () => r.destroy(new Error(`timeout after ${req.timeoutMs ?? 15_000} ms`)));
    r.on('error', reject);
    r.end(body);
  });
}
