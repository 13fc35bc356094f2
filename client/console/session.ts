// The signed-in session of this tab: the token in sessionStorage, who is signed in, and the one
// typed API client (client/apiClient.ts) every page calls through.
import { createApiClient } from '../apiClient.ts';
import type { Me } from './viewContract.ts';

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
};

export const api = createApiClient({
  baseUrl: location.origin,
  token: tokenStore.get,
  onUnauthorized: () => onUnauthorized(),
});

/** Who is signed in; set by main.tsx after GET /v1/me, null when signed out. */
let me: Me | null = null;
export const setMe = (who: Me | null) => {
  me = who;
};

/** Is this route in this build (read from /openapi.json at sign-in)? has('GET /v1/faults') */
export { has } from './capabilities.ts';

/** Does the signed-in user hold one of these roles? */
export const isRole = (...roles: string[]): boolean => (me ? roles.includes(me.role) : false);
