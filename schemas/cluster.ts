// What instances of one cluster tell each other over Redis pub/sub (docs/cluster.md): one zod
// schema per channel, so a message from a peer is parsed like any other input before it acts.
// Telemetry never travels here; only what other instances must know to answer alike.
import { z } from 'zod';

/** A bus event of another instance (server/events/eventBus.ts names and shapes them). */
const relayedEvent = z.object({ name: z.string().min(1), data: z.unknown() });

/** A terminal's presence as the instance holding it sees it. */
export const presenceNote = z.object({
  deviceId: z.string().min(1),
  online: z.boolean(),
  connected: z.boolean(),
  fwVersion: z.string().nullable(),
  slot: z.string().nullable(),
  lastSeenMs: z.number(),
});
export type PresenceNote = z.infer<typeof presenceNote>;

export const clusterChannels = {
  /** Bus events (device, command, campaign, fault…), batched, for live streams and campaign leaders. */
  events: z.object({ events: z.array(relayedEvent) }),
  /** The devices whose live health an instance's stream subscribers watch (its whole set, repeated). */
  watching: z.object({ deviceIds: z.array(z.string().min(1)) }),
  /** Presence of the terminals an instance holds, so fleet views agree on every instance. */
  presence: z.object({ items: z.array(presenceNote) }),
  /** Caches to drop: a terminal's credentials, a principal's tokens, a module's settings. */
  invalidate: z.discriminatedUnion('kind', [
    z.object({ kind: z.literal('device'), deviceIds: z.array(z.string().min(1)).min(1) }),
    z.object({ kind: z.literal('principal'), userId: z.string().min(1) }),
    z.object({ kind: z.literal('module'), module: z.string().min(1), ids: z.array(z.string()).optional() }),
  ]),
  /** Commands created or cancelled elsewhere, for the instance holding their terminals. */
  commands: z.discriminatedUnion('kind', [
    // With each command its terminal: an instance not holding it skips the lookup.
    z.object({ kind: z.literal('created'), commands: z.array(z.object({ id: z.string().min(1), deviceId: z.string().min(1) })).min(1) }),
    z.object({ kind: z.literal('cancelled'), ids: z.array(z.string().min(1)).min(1) }),
  ]),
  /** One instance asks another to do something it owns (a campaign's control goes to its leader). */
  request: z.object({ id: z.string().min(1), method: z.string().min(1), params: z.unknown() }),
  reply: z.object({
    id: z.string().min(1),
    ok: z.boolean(),
    result: z.unknown().optional(),
    error: z.object({ status: z.number().int(), code: z.string(), message: z.string() }).optional(),
  }),
} as const;

export type ClusterChannel = keyof typeof clusterChannels;
export type ClusterMessage<C extends ClusterChannel> = z.infer<(typeof clusterChannels)[C]>;

export const isClusterChannel = (name: string): name is ClusterChannel => Object.hasOwn(clusterChannels, name);

/** Every message travels in this envelope: who sent it, on which channel (checked with isClusterChannel). */
export const clusterEnvelope = z.object({ from: z.string().min(1), channel: z.string().min(1), msg: z.unknown() });
