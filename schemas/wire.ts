// MQTT wire contract between terminal agents and the server (SPEC §3).
// Shared by the agent and the server so both validate exactly the same shapes.
import { z } from 'zod';
import { trustReport } from './deviceTrust.ts';
import { reportedParameters } from './parameters.ts';
import { appInventory } from './apps.ts';

export const TOPIC_PREFIX = 'fleet/v1';
export const MAX_PAYLOAD_BYTES = 64 * 1024;

export const deviceTopicKinds = ['state', 'health', 'event', 'ack', 'cmd'] as const;
export type DeviceTopicKind = (typeof deviceTopicKinds)[number];
/** Topics a device may publish to (its own only). */
export const devicePublishKinds = ['state', 'health', 'event', 'ack'] as const;
export type DevicePublishKind = (typeof devicePublishKinds)[number];

export const topicFor = (deviceId: string, kind: DeviceTopicKind): string =>
  `${TOPIC_PREFIX}/${deviceId}/${kind}`;

const TOPIC_HEAD = `${TOPIC_PREFIX}/`;
const isTopicKind = (kind: string): kind is DeviceTopicKind => (deviceTopicKinds as readonly string[]).includes(kind);

/** Splits `fleet/v1/{id}/{kind}`; null for anything else. Runs for every device message, so
 *  it scans for one slash rather than splitting the topic. */
export function parseDeviceTopic(topic: string): { deviceId: string; kind: DeviceTopicKind } | null {
  if (!topic.startsWith(TOPIC_HEAD)) return null;
  const slash = topic.indexOf('/', TOPIC_HEAD.length);
  if (slash <= TOPIC_HEAD.length) return null; // no kind, or an empty device id
  const kind = topic.slice(slash + 1); // a kind with a further level matches no kind
  if (!isTopicKind(kind)) return null;
  return { deviceId: topic.slice(TOPIC_HEAD.length, slash), kind };
}

const epochMs = z.number().int().nonnegative();

export const stateMessage = z.object({
  online: z.boolean(),
  fwVersion: z.string().max(64).optional(),
  slot: z.enum(['A', 'B']).optional(),
  ts: epochMs.optional(),
  /** Fingerprints of the pinned publisher keys and broker URLs (extension, schemas/deviceTrust.ts). */
  trust: trustReport.optional(),
  /** The terminal parameters it applied last (extension, schemas/parameters.ts, docs/parameters.md). */
  parameters: reportedParameters.optional(),
  /** The payment apps installed (extension, schemas/apps.ts, docs/apps.md); absent: not reported. */
  apps: appInventory.optional(),
});
export type StateMessage = z.infer<typeof stateMessage>;

const componentStatus = z.enum(['ok', 'error', 'absent']);
export const printerStatus = z.enum(['ok', 'paper_low', 'paper_out', 'jam', 'error', 'absent']);

export const healthSample = z.object({
  ts: epochMs,
  seq: z.number().int().nonnegative(),
  battery: z.object({ level: z.number().min(0).max(100), charging: z.boolean() }).optional(),
  temperatureC: z.number().min(-60).max(150).optional(),
  printer: z.object({ status: printerStatus }).optional(),
  cardReader: z
    .object({ msr: componentStatus.optional(), icc: componentStatus.optional(), nfc: componentStatus.optional() })
    .optional(),
  signal: z.object({ type: z.enum(['wifi', 'cellular', 'ethernet']), rssi: z.number().min(-200).max(0) }).optional(),
  storage: z.object({ freeMb: z.number().nonnegative(), totalMb: z.number().positive() }).optional(),
  memory: z.object({ freeMb: z.number().nonnegative() }).optional(),
  tamper: z.boolean().optional(),
  uptimeS: z.number().nonnegative().optional(),
  location: z
    .object({
      lat: z.number().min(-90).max(90),
      lon: z.number().min(-180).max(180),
      accuracyM: z.number().nonnegative(),
      source: z.enum(['gps', 'cell', 'wifi']),
    })
    .optional(),
  txn: z
    .object({
      day: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
      count: z.number().int().nonnegative(),
      amountMinor: z.number().int().nonnegative(),
      currency: z.string().regex(/^[A-Z]{3}$/),
    })
    .optional(),
});
export type HealthSample = z.infer<typeof healthSample>;

export const eventTypes = ['fault', 'tamper', 'txn', 'log', 'boot'] as const;
export const severities = ['info', 'warning', 'major', 'critical'] as const;
export type Severity = (typeof severities)[number];

export const deviceEvent = z.object({
  ts: epochMs,
  seq: z.number().int().nonnegative(),
  type: z.enum(eventTypes),
  severity: z.enum(severities).optional(),
  data: z.record(z.string(), z.unknown()).default({}),
});
export type DeviceEvent = z.infer<typeof deviceEvent>;

export const commandTypes = [
  'ota.install',
  'keys.install',
  'keys.zeroize',
  'binding.set',
  'lock',
  'unlock',
  'reboot',
  'diag.run',
  'logs.upload',
  'config.set',
  // Extension to SPEC §3 (docs/spec-deviations.md): asks the device to abort a command it is
  // working on, e.g. when a rollout is cancelled mid-download (docs/protocol.md, docs/ota.md).
  'cancel',
  // Extension (docs/spec-deviations.md): the server hands newer publisher keys and broker URLs
  // (schemas/deviceTrust.ts); sent only by the server, never through the command API.
  'trust.set',
  // Extension (docs/spec-deviations.md, docs/apps.md): payment apps, shipped apart from firmware.
  'app.install',
  'app.uninstall',
] as const;
export type CommandType = (typeof commandTypes)[number];

/** Payload of a `cancel` command: the id of the command to abort. */
export const cancelCommandPayload = z.object({ cmdId: z.string().min(1).max(64) });
export type CancelCommandPayload = z.infer<typeof cancelCommandPayload>;

/** Long-running command types a `cancel` can abort while they run (the server asks only for these). */
export const abortableCommandTypes: readonly CommandType[] = ['ota.install'];

/** Error codes of a `rejected` answer to `cancel`, and of the aborted command's `failed` ack. */
export const cancelErrorCodes = {
  /** The command was stopped: its own ack is `failed` with this code. */
  cancelled: 'cancelled',
  /** Past its point of no return (installed, rebooting, done): it carries on. */
  tooLate: 'too_late',
  /** Not known to the agent, or already finished without effect. */
  notRunning: 'not_running',
  /** Running, but of a type that cannot be stopped part way. */
  notAbortable: 'not_abortable',
} as const;

export const commandMessage = z.object({
  id: z.string().min(1).max(64),
  type: z.enum(commandTypes),
  issuedAt: epochMs,
  expiresAt: epochMs.optional(),
  payload: z.record(z.string(), z.unknown()).default({}),
});
export type CommandMessage = z.infer<typeof commandMessage>;

export const ackStates = ['received', 'in_progress', 'succeeded', 'failed', 'rejected', 'deferred'] as const;
export type AckState = (typeof ackStates)[number];
export const terminalAckStates: readonly AckState[] = ['succeeded', 'failed', 'rejected'];

export const errorInfo = z.object({ code: z.string().min(1).max(64), message: z.string().max(1000) });
/** Why a command failed or was refused: what an ack's `error` carries, and what the server stores of it. */
export type ErrorInfo = z.infer<typeof errorInfo>;

export const ackMessage = z.object({
  cmdId: z.string().min(1).max(64),
  state: z.enum(ackStates),
  stage: z.string().max(64).optional(),
  progress: z.number().min(0).max(100).optional(),
  error: errorInfo.optional(),
  result: z.record(z.string(), z.unknown()).optional(),
});
export type AckMessage = z.infer<typeof ackMessage>;
/** An ack's `result`, as the command keeps it (its shape by command type, e.g. `keysInstallResult`). */
export type AckResult = NonNullable<AckMessage['result']>;

/** The schema that validates what a device publishes on each of its topics. */
export const inboundSchemas = {
  state: stateMessage,
  health: healthSample,
  event: deviceEvent,
  ack: ackMessage,
} as const;

/** What a device's message on each of its topics is once its schema accepted it. */
export type InboundMessages = { [K in DevicePublishKind]: z.infer<(typeof inboundSchemas)[K]> };
