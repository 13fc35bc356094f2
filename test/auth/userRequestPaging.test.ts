// GET /v1/user-requests pages like every other list (docs/api.md, Paging): newest first by
// (createdAt, id), pages disjoint and together complete, a cursor not of this list a 400 (both engines).
import { beforeAll, expect, it } from 'vitest';
import type { CreatedUser } from '../../server/auth/authService.ts';
import type { UserRequestView } from '../../server/auth/userRequests.ts';
import { emptyServer, forEachServer } from '../helpers/testServer.ts';

interface RequestPage {
  items: UserRequestView[];
  nextCursor: string | null;
}
interface ErrorAnswer {
  error: { code: string };
}

const REQUESTS = 7;
const b64 = (text: string) => Buffer.from(text).toString('base64url');

forEachServer('user requests are paged', (server) => {
  let admin: string;
  const asked: string[] = [];
  const api = <T>(method: string, path: string, body?: unknown) => server().api<T>(method, path, body, { token: admin });

  beforeAll(async () => {
    admin = await emptyServer(server());
    // With two admins enabled, every further admin is a request.
    expect((await api<CreatedUser>('POST', '/v1/users', { name: 'Bea', role: 'admin' })).status).toBe(201);
    for (let i = 0; i < REQUESTS; i++) {
      const res = await api<{ request: UserRequestView }>('POST', '/v1/users', { name: `Admin ${i}`, role: 'admin' });
      expect(res.status).toBe(202);
      asked.push(res.body.request.id);
    }
  });

  it('pages of 3 are disjoint, complete and newest first, the last one without a cursor', async () => {
    const pages: RequestPage[] = [];
    let cursor: string | null = null;
    do {
      const query: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : '';
      const res = await api<RequestPage>('GET', `/v1/user-requests?limit=3${query}`);
      expect(res.status, res.text).toBe(200);
      pages.push(res.body);
      cursor = res.body.nextCursor;
    } while (cursor && pages.length < 10);

    expect(pages.map((p) => p.items.length)).toEqual([3, 3, 1]);
    const rows = pages.flatMap((p) => p.items);
    expect(new Set(rows.map((r) => r.id))).toEqual(new Set(asked));
    expect(rows).toHaveLength(REQUESTS);
    // Newest first; two requests of the same millisecond by id, descending.
    const key = (r: UserRequestView) => `${r.createdAt}|${r.id}`;
    expect(rows.map(key)).toEqual(rows.map(key).sort().reverse());
    expect(pages.at(-1)?.nextCursor).toBeNull();
  });

  it('one page holding everything has no next cursor; an empty cursor is the first page', async () => {
    const all = await api<RequestPage>('GET', `/v1/user-requests?limit=${REQUESTS}`);
    expect(all.body.items).toHaveLength(REQUESTS);
    expect(all.body.nextCursor).toBeNull();
    const empty = await api<RequestPage>('GET', '/v1/user-requests?limit=2&cursor=');
    expect(empty.body.items).toEqual(all.body.items.slice(0, 2));
  });

  it('says so in the OpenAPI document: limit and cursor in, UserRequestPage with nextCursor out', async () => {
    interface Doc {
      paths: Record<string, { get: { parameters: { name: string; in: string }[]; responses: Record<string, unknown> } }>;
      components: { schemas: Record<string, { properties?: Record<string, unknown> }> };
    }
    const doc = (await server().api<Doc>('GET', '/openapi.json', undefined, { token: null })).body;
    const list = doc.paths['/v1/user-requests']?.get;
    expect(list?.parameters.filter((p) => p.in === 'query').map((p) => p.name)).toEqual(['limit', 'cursor']);
    expect(JSON.stringify(list?.responses['200'])).toContain('#/components/schemas/UserRequestPage');
    expect(Object.keys(doc.components.schemas.UserRequestPage?.properties ?? {})).toEqual(['items', 'nextCursor']);
  });

  it('a cursor it did not hand out is 400 bad_cursor: garbage, another list’s, a forged date', async () => {
    const commands = b64('2024-01-01T00:00:00.000Z|cmd_AAAAAAAAAAAAAAAA'); // the shape of a command list's cursor
    const users = (await api<RequestPage>('GET', '/v1/users?limit=1')).body.nextCursor;
    expect(users).not.toBeNull();
    for (const cursor of [
      'not a cursor!',
      b64('2024-01-01T00:00:00.000Z|'),
      commands,
      b64('275760-09-13T00:00:00.000Z|urq_AAAAAAAAAAAAAAAA'),
      users ?? '',
    ]) {
      const res = await api<ErrorAnswer>('GET', `/v1/user-requests?cursor=${encodeURIComponent(cursor)}`);
      expect(res.status, `cursor=${cursor}: ${res.text}`).toBe(400);
      expect(res.body.error.code).toBe('bad_cursor');
    }
  });
});
