// Agent-local shapes: the files in the state dir and the API's error answer.
// Validated on read so a corrupt or hand-edited state file fails loudly instead of half-working.
import { z } from 'zod';
import { configSetPayload } from '../schemas/commands.ts';
import { enrollAnswer } from '../schemas/enrollment.ts';
import { ackMessage, commandTypes, devicePublishKinds } from '../schemas/wire.ts';

export const apiError = z.object({
  error: z.object({ code: z.string(), message: z.string().optional() }),
});

/** The enrollment answer (schemas/enrollment.ts) as kept, with what the agent enrolled as. */
export const enrollmentFile = enrollAnswer.extend({
  serial: z.string(),
  model: z.string(),
  server: z.string(),
  enrolledAt: z.number().int(),
  /** Handed later by `trust.set` (schemas/deviceTrust.ts); replaces `mqtt.url` when present. */
  brokerUrls: z.array(z.string()).min(1).optional(),
});
export type Enrollment = z.infer<typeof enrollmentFile>;

export const slot = z.enum(['A', 'B']);
export type Slot = z.infer<typeof slot>;
export const firmwareSlots = z.object({
  active: slot,
  A: z.object({ version: z.string() }),
  B: z.object({ version: z.string() }),
});
export type FirmwareSlots = z.infer<typeof firmwareSlots>;

export const lockState = z.object({ locked: z.boolean(), changedAt: z.number().int().optional() });
export type LockState = z.infer<typeof lockState>;

/** Server-pushed settings: the merge of every `config.set` payload received, kept as they came. */
export const agentConfig = configSetPayload;
export type AgentConfig = z.infer<typeof agentConfig>;

/** A command the agent has seen: `final` is set once it reached a terminal ack. */
export const seenCommand = z.object({
  id: z.string(),
  type: z.union([z.enum(commandTypes), z.string()]),
  at: z.number().int(),
  final: ackMessage.optional(),
});
export type SeenCommand = z.infer<typeof seenCommand>;
export const seenCommands = z.array(seenCommand);

/** The KEK as a JWK (OKP/X25519): `d` is the private scalar, `x` the public key. */
export const kekFile = z.object({ kty: z.literal('OKP'), crv: z.literal('X25519'), d: z.string(), x: z.string() });
export type KekFile = z.infer<typeof kekFile>;

/** Events and acks still unsent when the agent stopped, re-queued at the next start. */
export const outboxItem = z.object({ kind: z.enum(devicePublishKinds), payload: z.string() });
export type OutboxItem = z.infer<typeof outboxItem>;
export const outboxFile = z.array(outboxItem);
