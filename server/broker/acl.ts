// Who may publish or subscribe where (SPEC §3). Pure: no broker needed to test it.
import { TOPIC_PREFIX, parseDeviceTopic, type DevicePublishKind } from '../../schemas/wire.ts';

export type PublishDecision =
  | { allowed: true; kind: DevicePublishKind }
  | { allowed: false; reason: 'foreign_topic' | 'forbidden_topic' };

/** A device may publish only to its own state, health, event and ack topics. */
export function decidePublish(deviceId: string, topic: string): PublishDecision {
  const parsed = parseDeviceTopic(topic);
  if (!parsed) return { allowed: false, reason: 'forbidden_topic' };
  if (parsed.deviceId !== deviceId) return { allowed: false, reason: 'foreign_topic' };
  // Only the server sends commands; every other topic kind is one a device publishes to.
  if (parsed.kind === 'cmd') return { allowed: false, reason: 'forbidden_topic' };
  return { allowed: true, kind: parsed.kind };
}

/** A device may subscribe only to its own command topic, exactly (no wildcards). */
export function mayDeviceSubscribe(deviceId: string, topic: string): boolean {
  // A device id is one plain topic level; anything else could widen the grant.
  if (!deviceId || /[/+#]/.test(deviceId)) return false;
  return topic === `${TOPIC_PREFIX}/${deviceId}/cmd`;
}
