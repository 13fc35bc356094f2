// Which routes this build has, read once from /openapi.json at sign-in, so pages can say what is
// missing instead of failing on a 404.
import { z } from 'zod';

const openApiPaths = z.object({ paths: z.record(z.string(), z.record(z.string(), z.unknown())) });

let routes = new Set<string>();

export async function loadCapabilities(): Promise<void> {
  const next = new Set<string>();
  try {
    const res = await fetch('/openapi.json', { cache: 'no-store' });
    const doc = openApiPaths.parse(await res.json());
    for (const [path, ops] of Object.entries(doc.paths)) for (const method of Object.keys(ops)) next.add(`${method.toUpperCase()} ${path}`);
  } catch {
    // No document: every optional part of a page says it is unavailable.
  }
  routes = next;
}

/** Is this route in this build? has('GET /v1/faults') */
export const has = (route: string): boolean => routes.has(route);
