// Admission of new MQTT connections: how many authentications may be in progress at once and how
// many may start per second. A fleet dropped together (broker restart, network cut) whose clients
// reconnect without jitter would otherwise all be parsed, authenticated and given a session at
// once, stalling the event loop the connected terminals share. Pure, with the clock passed in.
import { newBucket, takeToken, type Bucket } from './rateLimiter.ts';

export interface AdmissionLimits {
  /** Connections handed to the broker and not yet authenticated or gone. */
  maxPending: number;
  /** Authentications started per second (token bucket refill). */
  perSecond: number;
  /** Authentications that may start at one instant (token bucket size). */
  burst: number;
}

/** `pending`: too many authentications in progress; `rate`: the per-second budget is spent. */
export type AdmissionRefusal = 'pending' | 'rate';

export interface AdmissionGate {
  /** Admits one connection (it then holds a pending slot until `settle`), or says why not. */
  admit(nowMs: number): AdmissionRefusal | null;
  /** An admitted connection authenticated, was refused or went away: its slot is free again. */
  settle(): void;
  readonly pending: number;
}

export function createAdmissionGate(limits: AdmissionLimits, nowMs: number): AdmissionGate {
  const rate = { perSecond: limits.perSecond, burst: limits.burst };
  const bucket: Bucket = newBucket(rate, nowMs);
  let pending = 0;
  return {
    admit(now) {
      // Checked first so that a connection refused for concurrency does not spend a token.
      if (pending >= limits.maxPending) return 'pending';
      // Every authentication pays, whatever its outcome: a client looping on wrong credentials
      // must cost no more than a terminal that gets in.
      if (!takeToken(bucket, rate, now)) return 'rate';
      pending++;
      return null;
    },
    settle() {
      pending = Math.max(0, pending - 1);
    },
    get pending() {
      return pending;
    },
  };
}
