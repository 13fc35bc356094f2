// Enrollment (SPEC §2, docs/protocol.md § Enrollment): what a pre-registered terminal sends to
// `POST /v1/enroll` once, and what it gets back. The server validates the request and documents
// the answer with these; the agent builds the request and checks the answer with them.
import { z } from 'zod';

/** Serial numbers: letters, digits, `. _ -`, at most 64, starting with a letter or digit. */
export const SERIAL_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
/** Model names: letters, digits, space, `. _ / -`, at most 64, starting with a letter or digit. */
export const MODEL_PATTERN = /^[A-Za-z0-9][A-Za-z0-9 ._/-]{0,63}$/;

export const enrollRequest = z.object({
  serial: z.string().regex(SERIAL_PATTERN),
  model: z.string().regex(MODEL_PATTERN),
  fwVersion: z.string().min(1).max(64),
  kekPublicKey: z.string().min(40).max(64).describe('base64 of the raw 32-byte X25519 public key that key blocks are wrapped for'),
  enrollToken: z.string().min(1).max(256).describe('the fleet enrollment secret'),
});
export type EnrollRequest = z.infer<typeof enrollRequest>;

export const enrollAnswer = z.object({
  deviceId: z.string().min(1),
  mqtt: z
    .object({ url: z.string().min(1), username: z.string().min(1), password: z.string().min(1) })
    .describe('MQTT credentials, shown this once: the server keeps only a keyed hash of the password'),
  trust: z.object({
    firmwarePublishers: z.array(z.string()).describe('base64 raw Ed25519 keys whose firmware manifest signatures the terminal accepts'),
    bindingKey: z.string().describe('base64 raw Ed25519 key that signs binding tokens (docs/binding.md)'),
  }),
});
export type EnrollAnswer = z.infer<typeof enrollAnswer>;
