// What makes one kind of campaign different from another. The campaign engine
// (server/campaigns/) owns everything generic: targets, seeded phases, thresholds, rate and
// ramp, maintenance windows, per-device states and timeouts, retries with backoff, pause /
// resume / cancel / rollback, persistence and restart. A kind only says what to send, how to
// read an answer, and what "already done" means. Firmware rollouts (server/firmware/) are the
// first kind; key rotations (server/keys/) are meant to be the second.
//
// Life of a campaign as the engine sees it:
//   create:  kind.params.parse(body.params) → kind.open(params) (throws AppError if it cannot run)
//   start:   target resolved, devices drawn into phases; open.screen(device) skips some
//   send:    open.command(device, attempt) → CommandService.create(...)
//   acks:    every `command.updated` of a campaign command → open.judge(update, ref) → verdict
//   revert:  (onErrorThreshold: rollback) open.revert(device) for devices it updated
// `open()` is called again after a server restart, so it must be a pure function of `params`
// and the database (no state kept only in memory between calls).
import type { z } from 'zod';
import type { AnyCommand } from '../../schemas/commands.ts';
import type { CommandState } from '../../schemas/db.ts';
import type { AckResult, ErrorInfo } from '../../schemas/wire.ts';
import type { CampaignDeviceAction, CampaignSpec, ProgressDeviceState } from '../../schemas/campaigns.ts';

/** What the engine knows of a target device when it asks the kind. */
export interface CampaignDevice {
  deviceId: string;
  model: string;
  /** What the device itself last reported (state topic), else what it enrolled with. */
  reportedVersion: string | null;
  labels: Record<string, string>;
  /** The version it had when the campaign first reached it (for revert). */
  fromVersion?: string | null;
}

/** Identifies one send of a campaign command to one device. */
export interface AttemptRef {
  campaignId: string;
  deviceId: string;
  /** 1 for the first send, 2 for the first retry... Revert sends count on. */
  attempt: number;
  action: CampaignDeviceAction;
}

/** What to send: a type and its payload (schemas/commands.ts). The engine adds `campaignId` and `attempt` to the payload. */
export type CommandSpec = AnyCommand & {
  /** Seconds until the command expires on the server and on the agent. */
  ttlS?: number;
};

/** One change of a campaign command, as the command engine reports it (`command.updated`). */
export interface CommandUpdate {
  commandId: string;
  state: CommandState;
  stage: string | null;
  progress: number | null;
  error: ErrorInfo | null;
  result: AckResult | null;
}

/** The kind's reading of one command update. */
export type Verdict =
  /** Still working; `state` is where the device is now. */
  | { outcome: 'progress'; state: 'sent' | ProgressDeviceState; progress?: number }
  /** The device put it off (busy in a transaction, outside its window...); it retries by itself. */
  | { outcome: 'deferred'; reason: string }
  /** Done, as the device itself reports (`reported` = e.g. the version it now runs). */
  | { outcome: 'succeeded'; reported?: string }
  /** The device tried and is back on what it had: counts as an error. */
  | { outcome: 'rolled_back'; code: string; message?: string; reported?: string }
  /** Failed. `transient` failures are retried with backoff up to `retries`; others never. */
  | { outcome: 'failed'; code: string; message?: string; transient: boolean; reported?: string }
  /** The device says there was nothing to do (already done / not applicable). */
  | { outcome: 'skipped'; reason: string; reported?: string }
  /** Nothing to record. */
  | { outcome: 'ignore' };

/** A campaign of this kind, loaded for running (`open`). */
export interface OpenCampaign {
  /** Server-side check before a device is sent anything: null to go, or why it is skipped
   *  (e.g. `incompatible`, `already_on_version`). Cheap and synchronous: called per device. */
  screen(device: CampaignDevice): string | null;
  /** The command that applies the change to one device. */
  command(device: CampaignDevice, ref: AttemptRef): Promise<CommandSpec> | CommandSpec;
  /** Reads a command update; `ref.action` says whether it was an apply or a revert. */
  judge(update: CommandUpdate, ref: AttemptRef): Verdict;
  /** For onErrorThreshold: rollback. A command that undoes the change on one device, or why it
   *  cannot. Absent: the kind cannot revert, and `rollback` is refused at create. */
  revert?(device: CampaignDevice, ref: AttemptRef): Promise<CommandSpec | { unavailable: string }>;
  /** Device-reported truth: is the device, as it reports itself now, in the target state?
   *  null when unknown. Used to correct a `succeeded` that the device later contradicts. */
  isDone?(device: CampaignDevice): boolean | null;
  /** Short description for lists and the stream (e.g. `pos-os 2.1.0`). */
  summary: string;
  /**
   * Resolves once every effect of the answers judged so far is written (e.g. keys marked installed).
   * The engine waits for it before it stores a final campaign state, so whoever reads that state
   * also reads the effects. Absent: the kind's effects are in the verdicts themselves.
   */
  settled?(): Promise<unknown>;
}

export interface CampaignKind<P extends Record<string, unknown> = Record<string, unknown>> {
  /** Stored with every campaign: `firmware`, `keys`. */
  readonly name: string;
  /** A device takes part in at most one active campaign per lane (SPEC §4: `409 device_busy`). */
  readonly lane: string;
  /** The kind-specific part of a create request (e.g. `{firmwareId, mode}`). */
  readonly params: z.ZodType<P>;
  /**
   * Commands being created at once (default 32). A firmware send starts a download, and a few
   * thousand at once slow each other into timeouts; a key install is a small message, and more in
   * flight lets the command service coalesce them into large inserts.
   */
  readonly sendConcurrency?: number;
  /** Loads what the campaign needs (artifact, keys...); throws an AppError when it cannot run.
   *  `spec` is the generic part (phases, window...), for kinds that pass some of it to devices. */
  open(params: P, campaignId: string, spec: CampaignSpec): Promise<OpenCampaign>;
}
