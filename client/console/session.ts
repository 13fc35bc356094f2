// The signed-in session of this tab: the token in sessionStorage (the key the old views read too)
// and the one typed API client (client/apiClient.ts) every ported page calls through.
import { createApiClient } from '../apiClient.ts';
import { session as legacySession } from './legacy/index.js';

const TOKEN_KEY = 'posfleet.token';

export const tokenStore = {
  get: (): string | null => sessionStorage.getItem(TOKEN_KEY),
  set(token: string | null) {
    if (token) sessionStorage.setItem(TOKEN_KEY, token);
    else sessionStorage.removeItem(TOKEN_KEY);
  },
};

/** Set by main.tsx: what a 401 on the session's own token does (back to the sign-in form). */
let onUnauthorized = (): void => {};
export const setUnauthorizedHandler = (fn: () => void) => {
  onUnauthorized = fn;
  legacySession.onUnauthorized = fn;
};

export const api = createApiClient({
  baseUrl: location.origin,
  token: tokenStore.get,
  onUnauthorized: () => onUnauthorized(),
});

/** Is this route in this build (read from /openapi.json at sign-in)? has('GET /v1/faults') */
export { has } from './legacy/index.js';

/** Does the signed-in user hold one of these roles? */
export const isRole = (...roles: string[]): boolean => (legacySession.me ? roles.includes(legacySession.me.role) : false);
