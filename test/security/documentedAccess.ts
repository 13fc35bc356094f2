// The endpoint table of docs/api.md read as access entries, so the matrix's table and the page a
// third party writes clients from can be held to each other. The page abbreviates: several paths
// in one cell (`/v1/faults/{id}/acknowledge`, `…/resolve`), several methods (`GET, PUT`), and the
// roles cell in words ("all", "none (signed link)", "admin (not the requester)").
import { roles, type Role } from '../../schemas/db.ts';
import type { Access, Credential, Method } from '../../server/auth/accessTable.ts';

export interface DocumentedRoute {
  method: Method;
  path: string;
  access: Access;
}

const methods: readonly Method[] = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];
const isMethod = (m: string): m is Method => methods.some((known) => known === m);
const isRole = (r: string): r is Role => roles.some((known) => known === r);

/** The words of a roles cell that name a credential, and those that say nothing about who may call. */
const credentialWords: Record<string, Credential> = {
  'enrollment token': 'enrollToken',
  'signed link': 'signedLink',
  'device Basic': 'deviceBasic',
};
const otherNotes = new Set(['not the requester', 'not the creator', 'shell only']);

/**
 * `…/x` after a first path: `x` replaces the first path from its own first segment on when the
 * first path has that segment (`/v1/devices/{id}/binding`, `…/binding/history`), is a child when
 * it starts with a path parameter (`/v1/key-rotations`, `…/{id}/devices`), else a sibling of the
 * first path's last segment (`…/approve`, `…/reject`).
 */
export function expandPath(first: string, abbreviated: string): string {
  if (!abbreviated.startsWith('…/')) return abbreviated;
  const rest = abbreviated.slice(2);
  const segments = first.split('/');
  const at = segments.indexOf(rest.split('/')[0]!);
  if (at > 0) return [...segments.slice(0, at), rest].join('/');
  if (rest.startsWith('{')) return `${first}/${rest}`;
  return [...segments.slice(0, -1), rest].join('/');
}

export function parseRolesCell(cell: string): Access {
  const notes = [...cell.matchAll(/\(([^)]*)\)/g)].map((m) => m[1]!.trim());
  const words = cell.replace(/\([^)]*\)/g, '').trim();
  const credentials: Credential[] = [];
  let scope: Access['scope'];
  for (const note of notes) {
    if (note === 'own id only') scope = 'self';
    else if (credentialWords[note]) credentials.push(credentialWords[note]);
    else if (!otherNotes.has(note)) throw new Error(`docs/api.md: unknown note "(${note})" in roles "${cell}"`);
  }
  for (const [phrase, credential] of Object.entries(credentialWords)) if (words.includes(phrase)) credentials.push(credential);
  const named = [...words.matchAll(/[a-z]+/g)].map((m) => m[0]).filter(isRole);
  const access: Access = {
    roles: words === 'none' ? 'public' : words === 'all' ? [...roles] : named,
    ...(credentials.length ? { credentials: credentials.sort() } : {}),
    ...(scope ? { scope } : {}),
  };
  if (access.roles !== 'public' && access.roles.length === 0) throw new Error(`docs/api.md: no role in "${cell}"`);
  return access;
}

/** Every (method, path) of the table under `## Endpoints`, with the access its roles cell says. */
export function documentedRoutes(markdown: string): DocumentedRoute[] {
  const lines = markdown.split('\n');
  const start = lines.indexOf('## Endpoints');
  if (start < 0) throw new Error('docs/api.md has no "## Endpoints" section');
  const rows: DocumentedRoute[] = [];
  let inTable = false;
  for (const line of lines.slice(start + 1)) {
    if (!line.startsWith('|')) {
      if (inTable) break;
      continue;
    }
    inTable = true;
    const [methodCell = '', pathCell = '', rolesCell = ''] = line
      .split('|')
      .slice(1, 4)
      .map((c) => c.trim());
    if (methodCell === 'method' || methodCell.startsWith('---')) continue;
    const paths = [...pathCell.matchAll(/`([^`]+)`/g)].map((m) => m[1]!);
    const first = paths[0];
    if (!first) throw new Error(`docs/api.md: no path in "${line}"`);
    const access = parseRolesCell(rolesCell);
    for (const method of methodCell.split(',').map((m) => m.trim())) {
      if (!isMethod(method)) throw new Error(`docs/api.md: unknown method "${method}" in "${line}"`);
      for (const path of paths) rows.push({ method, path: expandPath(first, path), access });
    }
  }
  return rows;
}
