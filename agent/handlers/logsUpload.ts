import { CommandError, type CommandHandler } from '../dispatcher.ts';
import { httpSend } from '../http.ts';
import type { HandlerEnv } from './env.ts';

// The URL is pre-signed by the server, so the upload carries no device credentials.
export const logsUploadHandler =
  (env: HandlerEnv): CommandHandler<'logs.upload'> =>
  async (ctx) => {
    const bundle = env.logBundle();
    ctx.progress('uploading', 0);
    let status: number;
    try {
      ({ status } = await httpSend({
        method: 'PUT',
        url: ctx.payload.url,
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
