import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Role } from '../../schemas/db.ts';

/** Who made an API call; every audit entry and approval names it. */
export interface Principal {
  userId: string;
  name: string;
  role: Role;
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
