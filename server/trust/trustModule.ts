// Hands terminals the server's current publisher keys and broker URLs (`trust.set`) when the
// fingerprints in their `state` say they hold others: a publisher key added to or removed from
// FIRMWARE_PUBLISHER_KEYS, or a PUBLIC_MQTT_URL / MQTT_FALLBACK_URLS change, reaches an enrolled
// fleet without re-enrolling (docs/ota.md "Publisher trust", docs/operations.md).
import type { StateMessage } from '../../schemas/wire.ts';
import type { Config } from '../config.ts';
import type { ModuleContext, ServerModule } from '../moduleContract.ts';
import { trustUpdate, updateKey, type WantedTrust } from './trustPolicy.ts';

/** A terminal that reports the old lists again this long after it was sent an update gets another. */
const RESEND_AFTER_MS = 10 * 60_000;

const commaList = (v: string | undefined): string[] =>
  (v ?? '')
    .split(',')
    .map((k) => k.trim())
    .filter(Boolean);

export function wantedTrust(config: Config, mqttUrl: string): WantedTrust {
  return {
    firmwarePublishers: commaList(config.FIRMWARE_PUBLISHER_KEYS),
    brokerUrls: [...new Set([config.PUBLIC_MQTT_URL ?? mqttUrl, ...commaList(config.MQTT_FALLBACK_URLS)].filter(Boolean))],
  };
}

export function createTrustModule(ctx: ModuleContext): ServerModule {
  const sent = new Map<string, { key: string; at: number }>();

  function onState(deviceId: string, msg: StateMessage): void {
    if (!msg.online) return;
    const update = trustUpdate(msg.trust, wantedTrust(ctx.config, ctx.mqttUrl()));
    if (!update) {
      sent.delete(deviceId);
      return;
    }
    const key = updateKey(update);
    const last = sent.get(deviceId);
    const now = Date.now();
    if (last && last.key === key && now - last.at < RESEND_AFTER_MS) return;
    sent.set(deviceId, { key, at: now });
    ctx.commands.create(deviceId, { type: 'trust.set', payload: update, createdBy: null }).catch((err: unknown) => {
      sent.delete(deviceId);
      ctx.log.warn({ deviceId, err: (err as Error).message }, 'trust.set not created');
    });
  }

  return { name: 'trust', onState };
}
