import { z } from 'zod';
import { CommandError, type CommandHandler } from '../dispatcher.ts';
import { httpSend } from '../http.ts';
import type { HandlerEnv } from './env.ts';

const payload = z.object({ url: z.string().regex(/^https?:\/\//, 'must be an http(s) URL') });

// The URL is pre-signed by the server, so the upload carries no device credentials.
export const logsUploadHandler =
  (env: HandlerEnv): CommandHandler =>
  async (ctx) => {
    const p = payload.safeParse(ctx.command.payload);
    if (!p.success) throw new CommandError('invalid_payload', p.error.issues[0]?.message ?? 'bad payload', 'rejected');
    const bundle = env.logBundle();
    ctx.progress('uploading', 0);
    let status: number;
    try {
      ({ status } = await httpSend({
        method: 'PUT',
        url: p.data.url,
        headers: { 'content-type': 'text/plain; charset=utf-8' },
        body: bundle,
        ...(env.ca ? { ca: env.ca } : {}),
        timeoutMs: 30_000,
      }));
    } catch (err) {
      throw new CommandError('upload_failed', (err as Error).message);
    }
    if (status < 200 || status >= 300) throw new CommandError('upload_failed', `upload answered HTTP ${status}`);
    return { bytes: Buffer.byteLength(bundle), status };
  };
