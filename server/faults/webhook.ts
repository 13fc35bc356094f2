// The webhook contract (docs/faults.md): a JSON body, signed with HMAC-SHA256 under the shared
// secret, sent as `X-Posfleet-Signature: sha256=<hex>`. Pure functions, shared with tests.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { severityRank, type Severity } from '../../schemas/faults.ts';

export const SIGNATURE_HEADER = 'x-posfleet-signature';
export const DELIVERY_HEADER = 'x-posfleet-delivery';
export const EVENT_HEADER = 'x-posfleet-event';

export type WebhookEvent = 'fault.opened' | 'fault.resolved' | 'test';

export interface WebhookFault {
  id: string;
  deviceId: string;
  code: string;
  title: string;
  severity: Severity;
  state: string;
  detail: string | null;
  openedAt: string;
  resolvedAt: string | null;
  resolution: string | null;
}

export interface WebhookBody {
  deliveryId: string;
  event: WebhookEvent;
  sentAt: string;
  fault: WebhookFault | null;
}

export function signWebhook(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body, 'utf8').digest('hex')}`;
}

/** For receivers: checks a signature in constant time. */
export function verifyWebhook(secret: string, body: string, signature: string | null | undefined): boolean {
  if (!signature) return false;
  const want = Buffer.from(signWebhook(secret, body));
  const got = Buffer.from(signature);
  return want.length === got.length && timingSafeEqual(want, got);
}

export const atOrAbove = (severity: Severity, floor: Severity) => severityRank[severity] >= severityRank[floor];

/** 4xx answers other than 408/429 will not get better by retrying. */
export const isPermanentFailure = (status: number) => status >= 400 && status < 500 && status !== 408 && status !== 429;
