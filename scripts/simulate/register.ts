// Pre-registration of the simulated serials through the operator API (CSV import), in chunks so
// a large fleet does not hit a request-body limit. Serials already registered come back as
// `skipped`, which is what a rerun expects.
import { z } from 'zod';
import { httpSend } from '../../agent/http.ts';

const importResult = z.object({
  created: z.number(),
  skipped: z.array(z.object({ line: z.number().optional(), serial: z.string().optional(), reason: z.string().optional() })).default([]),
  errors: z.array(z.object({ line: z.number().optional(), message: z.string() })).default([]),
});
export type ImportResult = z.infer<typeof importResult>;

export class RegistrationError extends Error {
  override name = 'RegistrationError';
}

const CHUNK = 2000;

export async function importSerials(opts: {
  server: string;
  adminToken: string;
  model: string;
  serials: readonly string[];
  ca?: string | Buffer;
}): Promise<ImportResult> {
  const url = new URL('/v1/devices/import', opts.server).toString();
  const total: ImportResult = { created: 0, skipped: [], errors: [] };
  for (let i = 0; i < opts.serials.length; i += CHUNK) {
    const rows = opts.serials.slice(i, i + CHUNK).map((s) => `${s},${opts.model}`);
    let res;
    try {
      res = await httpSend({
        method: 'POST',
        url,
        headers: { authorization: `Bearer ${opts.adminToken}`, 'content-type': 'text/csv' },
        body: `serial,model\n${rows.join('\n')}\n`,
        ...(opts.ca ? { ca: opts.ca } : {}),
        timeoutMs: 60_000,
      });
    } catch (err) {
      throw new RegistrationError(`cannot reach ${url}: ${(err as Error).message}`);
    }
    if (res.status === 401 || res.status === 403) {
      throw new RegistrationError(`the server refused the admin token (HTTP ${res.status}); check --admin-token`);
    }
    if (res.status !== 200 && res.status !== 201) {
      throw new RegistrationError(`device import failed: HTTP ${res.status} ${res.body.slice(0, 300)}`);
    }
    let parsed;
    try {
      parsed = importResult.parse(JSON.parse(res.body));
    } catch {
      throw new RegistrationError(`device import answered something unexpected: ${res.body.slice(0, 300)}`);
    }
    total.created += parsed.created;
    total.skipped.push(...parsed.skipped);
    total.errors.push(...parsed.errors);
  }
  return total;
}
