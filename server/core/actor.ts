import type { Principal } from '../http/types.ts';

/** Who did it and from where; `principal` null for the system (expiry, rules, tamper). */
export interface Actor {
  principal: Principal | null;
  ip?: string;
}

export const SYSTEM: Actor = { principal: null };
