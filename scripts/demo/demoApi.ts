// The control-plane calls of `npm run demo:rollout`, as the demo's operator (token and address
// from DATA_DIR). A non-2xx answer becomes an error that repeats the server's own message.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { loadDemoState } from './ports.ts';

const apiError = z.object({ error: z.object({ code: z.string(), message: z.string().optional() }) });

export class DemoApiError extends Error {
  override name = 'DemoApiError';
}

export interface DemoApi {
  httpUrl: string;
  /** A Blob body goes as application/octet-stream, anything else as JSON. */
  call<S extends z.ZodType>(method: string, path: string, schema: S, body?: unknown): Promise<z.infer<S>>;
}

export function openDemoApi(dataDir: string): DemoApi {
  const state = loadDemoState(dataDir);
  const tokenFile = join(dataDir, 'demo-operator.token');
  if (!state || !existsSync(tokenFile))
    throw new DemoApiError(
      `no demo has run on ${dataDir} yet (no demo.json or demo-operator.token): start \`npm run demo\` first, with the same DATA_DIR`,
    );
  const token = readFileSync(tokenFile, 'utf8').trim();
  const httpUrl = process.env.DEMO_URL ?? state.httpUrl;

  return {
    httpUrl,
    async call(method, path, schema, body) {
      const binary = body instanceof Blob;
      let res: Response;
      try {
        res = await fetch(`${httpUrl}${path}`, {
          method,
          headers: {
            authorization: `Bearer ${token}`,
            ...(body === undefined ? {} : { 'content-type': binary ? 'application/octet-stream' : 'application/json' }),
          },
          ...(body === undefined ? {} : { body: binary ? body : JSON.stringify(body) }),
        });
      } catch (err) {
        throw new DemoApiError(`cannot reach the demo server at ${httpUrl} (${(err as Error).message}): is \`npm run demo\` running?`);
      }
      const text = await res.text();
      const json: unknown = text ? JSON.parse(text) : {};
      if (!res.ok) {
        const e = apiError.safeParse(json);
        throw new DemoApiError(
          `${method} ${path}: HTTP ${res.status} ${e.success ? `${e.data.error.code}: ${e.data.error.message ?? ''}` : text.slice(0, 300)}`,
        );
      }
      return schema.parse(json);
    },
  };
}
