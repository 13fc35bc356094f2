// The trust a terminal holds after enrollment, read from its enrollment file: the publisher keys
// its firmware must be signed with and the brokers it may connect to, with the fingerprints it
// reports so the server can tell when they are out of date (schemas/deviceTrust.ts).
import { brokersFingerprint, publishersFingerprint, type TrustReport, type TrustSetPayload } from '../schemas/deviceTrust.ts';
import type { Enrollment } from './schemas.ts';

export const brokerUrlsOf = (e: Enrollment): readonly string[] => e.brokerUrls ?? [e.mqtt.url];

export const trustReportOf = (e: Enrollment): TrustReport => ({
  publishers: publishersFingerprint(e.trust.firmwarePublishers),
  brokers: brokersFingerprint(brokerUrlsOf(e)),
});

/** A local override (`--mqtt-url`) first, then the pinned list; each URL once. */
export const brokerCandidates = (e: Enrollment, override?: string): readonly string[] => [
  ...new Set([...(override ? [override] : []), ...brokerUrlsOf(e)]),
];

export function applyTrust(e: Enrollment, p: TrustSetPayload): Enrollment {
  return {
    ...e,
    ...(p.brokerUrls ? { brokerUrls: p.brokerUrls } : {}),
    ...(p.firmwarePublishers ? { trust: { ...e.trust, firmwarePublishers: p.firmwarePublishers } } : {}),
  };
}
