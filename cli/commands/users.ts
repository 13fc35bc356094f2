// users list | create | disable, tokens issue | revoke (docs/cli.md "Users and tokens").
import { z } from 'zod';
import { roles } from '../../schemas/db.ts';
import { MeSchema } from '../../server/auth/meSchema.ts';
import { IssuedTokenSchema, UserPageSchema } from '../../server/auth/userSchemas.ts';
import { CreatedUserSchema, UserRequestSchema } from '../../server/auth/userSchemas.ts';
import { limitOf, parseCommand, positionals, type Command, type Group } from '../context.ts';
import { UsageError } from '../errors.ts';
import { hintNext } from './paging.ts';

const isRole = (r: string): r is (typeof roles)[number] => roles.some((x) => x === r);
// POST /v1/users answers 201 with the user and its token, or 202 with a request another admin decides.
const createAnswer = z.union([CreatedUserSchema, z.object({ request: UserRequestSchema })]);

const list: Command = {
  summary: 'users, oldest first (admin)',
  usage: 'posfleet users list [--limit N] [--cursor C] [--json]',
  async run(ctx, args) {
    const { values } = parseCommand(args, { limit: { type: 'string' }, cursor: { type: 'string' } }, this.usage);
    const got = await ctx
      .client()
      .call(UserPageSchema, 'GET', '/v1/users', { query: { limit: limitOf(values.limit, this.usage), cursor: values.cursor } });
    if (ctx.json) ctx.out.json(got);
    else
      ctx.out.table(got.items, [
        { header: 'id', value: (u) => u.id },
        { header: 'name', value: (u) => u.name },
        { header: 'role', value: (u) => u.role },
        { header: 'disabled', value: (u) => (u.disabled ? 'yes' : 'no') },
        { header: 'created', value: (u) => u.createdAt },
      ]);
    hintNext(ctx, got);
  },
};

const create: Command = {
  summary: 'create a user and its first token (shown once); a new admin may need a second admin',
  usage: `posfleet users create --name NAME --role ${roles.join('|')} [--json]`,
  async run(ctx, args) {
    const { values, positionals: rest } = parseCommand(args, { name: { type: 'string' }, role: { type: 'string' } }, this.usage);
    if (!values.name || !values.role || rest.length) throw new UsageError(this.usage);
    if (!isRole(values.role)) throw new UsageError(`--role is one of ${roles.join(', ')}`);
    const got = await ctx.client().call(createAnswer, 'POST', '/v1/users', { body: { name: values.name, role: values.role } });
    if (ctx.json) return ctx.out.json(got);
    if ('request' in got)
      ctx.out.line(`filed as user request ${got.request.id}: another admin approves it (POST /v1/user-requests/${got.request.id}/approve)`);
    else {
      ctx.out.line(`user ${got.id} (${got.name}, ${got.role}) created`);
      ctx.out.line(`token (shown once): ${got.token}`);
    }
  },
};

const disable: Command = {
  summary: 'disable a user and revoke every token it has (admin)',
  usage: 'posfleet users disable <id> [--json]',
  async run(ctx, args) {
    const [id] = positionals(parseCommand(args, {}, this.usage).positionals, 1, this.usage);
    const got = await ctx.client().request('POST', `/v1/users/${encodeURIComponent(id!)}/disable`);
    if (ctx.json) return ctx.out.json(got);
    ctx.out.line(`user ${id} disabled, its tokens revoked`);
  },
};

const issue: Command = {
  summary: 'issue another token for yourself (older ones stay valid)',
  usage: 'posfleet tokens issue [--json]',
  async run(ctx, args) {
    parseCommand(args, {}, this.usage);
    const api = ctx.client();
    const me = await api.call(MeSchema, 'GET', '/v1/me');
    const got = await api.call(IssuedTokenSchema, 'POST', `/v1/users/${encodeURIComponent(me.id)}/tokens`);
    if (ctx.json) return ctx.out.json(got);
    ctx.out.line(got.token);
    ctx.out.note(`a new token for ${me.name} (${me.role}), shown once`);
  },
};

const revoke: Command = {
  summary: "revoke tokens: the API revokes a user's tokens all at once (users disable)",
  usage: 'posfleet tokens revoke --user ID',
  async run(ctx, args) {
    const { values } = parseCommand(args, { user: { type: 'string' } }, this.usage);
    // The API has no single-token revocation (docs/api.md): disabling the user is what revokes.
    if (!values.user)
      throw new UsageError(
        `${this.usage}\n  The API revokes a user's tokens all together by disabling the user; there is no single-token revocation.`,
      );
    await disable.run(ctx, [values.user]);
  },
};

export const usersGroup: Group = { summary: 'users: list, create, disable', commands: { list, create, disable } };
export const tokensGroup: Group = { summary: 'API tokens: issue, revoke', commands: { issue, revoke } };
