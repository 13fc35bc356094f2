// What an answer must be, given an operation's entry in the access table and who called: the
// cells of the authorization matrix, decided without a server so the test only asks and compares.
import type { Role } from '../../schemas/db.ts';
import type { Access } from '../../server/auth/accessTable.ts';

/** Every kind of caller the matrix tries on every operation. */
export type Caller =
  | { kind: 'no token' }
  | { kind: 'unknown token' }
  | { kind: 'malformed'; header: string }
  | { kind: 'role'; role: Role }
  /** A role naming another user's id on a `self` route (only tried there). */
  | { kind: 'role, another user'; role: Role };

export type Expected = { pass: true } | { pass: false; status: 401 | 403; code: string };

export function expectedAnswer(access: Access, caller: Caller): Expected {
  if (access.roles === 'public') return { pass: true };
  if (caller.kind !== 'role' && caller.kind !== 'role, another user') return { pass: false, status: 401, code: 'unauthorized' };
  if (!access.roles.includes(caller.role)) return { pass: false, status: 403, code: 'forbidden' };
  if (caller.kind === 'role, another user') return { pass: false, status: 403, code: 'own_tokens_only' };
  return { pass: true };
}

export interface Answer {
  status: number;
  body: unknown;
  headers: Headers;
}

const errorCode = (body: unknown): unknown =>
  typeof body === 'object' &&
  body !== null &&
  'error' in body &&
  typeof body.error === 'object' &&
  body.error !== null &&
  'code' in body.error
    ? body.error.code
    : undefined;

/**
 * Why the answer breaks the expectation, or undefined if it keeps it. Passing means getting past
 * authentication and the role check: every status but 401 and 403 (a made-up id is a 404, an empty
 * body a 400). Never a 5xx, whoever asks.
 */
export function mismatch(expected: Expected, answer: Answer): string | undefined {
  const code = errorCode(answer.body);
  const got = `${answer.status}${code === undefined ? '' : ` ${String(code)}`}`;
  if (answer.status >= 500) return `${got}: a server error`;
  if (expected.pass) return answer.status === 401 || answer.status === 403 ? `${got}, expected to get past the role check` : undefined;
  if (answer.status !== expected.status || code !== expected.code) return `${got}, expected ${expected.status} ${expected.code}`;
  if (expected.status === 401 && !answer.headers.get('www-authenticate')) return `${got} without WWW-Authenticate`;
  return undefined;
}

/** `Bearer <token>` forms the API must refuse although the token in them is valid. */
export const malformedHeaders = (validToken: string): string[] => [
  'Bearer',
  `Token ${validToken}`,
  `Bearer ${validToken} ${validToken}`,
  validToken,
];

export const describeCaller = (caller: Caller): string =>
  caller.kind === 'role' || caller.kind === 'role, another user'
    ? `${caller.role}${caller.kind === 'role' ? '' : " naming another user's id"}`
    : caller.kind === 'malformed'
      ? `Authorization: ${caller.header.replace(/pf_\S+/g, 'pf_…')}`
      : caller.kind;
