import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Role } from '../../schemas/db.ts';

/** Who made an API call; every audit entry and approval names it. */
export interface Principal {
  userId: string;
  name: string;
  role: Role;
  /** The organisation the user belongs to; it acts within this node's subtree (server/orgs/scope.ts). */
  orgId: string;
  /** That node's materialised path, `/org_root/…/<orgId>/`: a prefix of every path in its subtree. */
  orgPath: string;
}

export interface AppEnv {
  Variables: {
    principal: Principal;
    requestId: string;
    /** Set for every request by the HTTP app (auth/middleware.ts clientIp). */
    clientIp: string;
  };
}

export type AppRouter = OpenAPIHono<AppEnv>;

/**
 * A route that authenticates otherwise (the enrollment token, a signed link, device credentials)
 * or takes a body over the JSON limit (a firmware image, a log bundle): the HTTP app's bearer
 * auth or body limit skips it. Declared by the route's owner, next to the routes it mounts.
 */
export interface RouteExemption {
  /** `ALL` for every method; HEAD is its own method here (Hono answers it from the GET route). */
  methods: readonly ('GET' | 'HEAD' | 'PUT' | 'POST' | 'DELETE' | 'PATCH' | 'ALL')[];
  /** A Hono path pattern, e.g. `/v1/firmware/:id/content`. */
  path: string;
  skip: readonly ('auth' | 'bodyLimit')[];
}
