// When a terminal needs a `trust.set`: the fingerprints in its `state` differ from the server's
// publisher keys or broker URLs. Pure, so the rules are unit-tested without a broker.
import { brokersFingerprint, publishersFingerprint, type TrustReport, type TrustSetPayload } from '../../schemas/deviceTrust.ts';

export interface WantedTrust {
  firmwarePublishers: readonly string[];
  brokerUrls: readonly string[];
}

export function trustUpdate(reported: TrustReport | undefined, wanted: WantedTrust): TrustSetPayload | null {
  // An agent that reports nothing predates trust.set and would answer `unsupported_command`.
  if (!reported) return null;
  const update: TrustSetPayload = {};
  // A server without publisher keys leaves the terminals' keys alone: an unset variable after a
  // restart is likelier a slip than an order to distrust every publisher.
  if (wanted.firmwarePublishers.length > 0 && reported.publishers !== publishersFingerprint(wanted.firmwarePublishers))
    update.firmwarePublishers = [...new Set(wanted.firmwarePublishers)];
  if (wanted.brokerUrls.length > 0 && reported.brokers !== brokersFingerprint(wanted.brokerUrls))
    update.brokerUrls = [...wanted.brokerUrls];
  return update.firmwarePublishers || update.brokerUrls ? update : null;
}

/** Same update as `payload`, for not sending one twice while the first is on its way. */
export const updateKey = (payload: TrustSetPayload): string =>
  JSON.stringify([payload.firmwarePublishers ?? null, payload.brokerUrls ?? null]);
