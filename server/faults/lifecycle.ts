// The fault lifecycle (SPEC §7): open → acknowledged → resolved. Pure: which action is allowed
// from which state, and what state it leads to.
import type { FaultState } from '../../schemas/faults.ts';

export type FaultAction = 'acknowledge' | 'resolve' | 'assign' | 'note';

export type TransitionResult = { ok: true; state: FaultState } | { ok: false; code: 'already_acknowledged' | 'fault_resolved'; message: string };

export function transition(state: FaultState, action: FaultAction): TransitionResult {
  switch (action) {
    case 'acknowledge':
      if (state === 'open') return { ok: true, state: 'acknowledged' };
      return state === 'acknowledged'
        ? { ok: false, code: 'already_acknowledged', message: 'the fault is already acknowledged' }
        : { ok: false, code: 'fault_resolved', message: 'the fault is resolved' };
    case 'resolve':
      if (state === 'open' || state === 'acknowledged') return { ok: true, state: 'resolved' };
      return { ok: false, code: 'fault_resolved', message: 'the fault is already resolved' };
    case 'assign':
      if (state === 'open' || state === 'acknowledged') return { ok: true, state };
      return { ok: false, code: 'fault_resolved', message: 'a resolved fault cannot be assigned' };
    case 'note':
      // Notes are history: a resolved fault can still be annotated.
      return { ok: true, state };
  }
}

/** States a fault leaves `from` in (what an UPDATE must find for the action to apply). */
export function statesAllowing(action: FaultAction): FaultState[] {
  return (['open', 'acknowledged', 'resolved'] as const).filter((s) => transition(s, action).ok);
}
