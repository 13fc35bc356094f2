// Token bucket per device: a steady rate plus a burst. Pure, with the clock passed in.
export interface Bucket {
  tokens: number;
  updatedMs: number;
  /** Messages refused in a row; reset by the next accepted one. */
  refusedInRow: number;
}

export interface RateLimit {
  perSecond: number;
  burst: number;
}

export const newBucket = (limit: RateLimit, nowMs: number): Bucket => ({ tokens: limit.burst, updatedMs: nowMs, refusedInRow: 0 });

/** Takes one token if there is one; mutates the bucket (it sits on the hot path). */
export function takeToken(bucket: Bucket, limit: RateLimit, nowMs: number): boolean {
  const elapsed = Math.max(0, nowMs - bucket.updatedMs) / 1000;
  bucket.tokens = Math.min(limit.burst, bucket.tokens + elapsed * limit.perSecond);
  bucket.updatedMs = nowMs;
  if (bucket.tokens >= 1) {
    bucket.tokens -= 1;
    bucket.refusedInRow = 0;
    return true;
  }
  bucket.refusedInRow += 1;
  return false;
}
