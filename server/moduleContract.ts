// What a domain module (merchants, firmware, keys, faults...) gets from the server and gives back:
// the shared parts, its routes, what it hears of device telemetry, its start and stop. Modules
// import this file, never the list of modules (server/modules.ts), so no import goes in a circle.
import type { DeviceEvent, HealthSample, StateMessage } from '../schemas/wire.ts';
import type { AuditLog } from './audit/auditLog.ts';
import type { AuthService } from './auth/authService.ts';
import type { CampaignEngine } from './campaigns/campaignEngine.ts';
import type { Cluster } from './cluster/cluster.ts';
import type { CommandService } from './commands/commandService.ts';
import type { Config } from './config.ts';
import type { Db } from './db/database.ts';
import type { CredentialCache } from './devices/credentialCache.ts';
import type { DeviceService } from './devices/deviceService.ts';
import type { TimelineWriter } from './devices/timelineWriter.ts';
import type { EventBus } from './events/eventBus.ts';
import type { LiveState, PresenceChange } from './telemetry/liveState.ts';
import type { AppRouter, RouteExemption } from './http/types.ts';
import type { JobQueues } from './jobs/jobQueues.ts';
import type { Logger } from './log.ts';
import type { Metrics } from './metrics.ts';
import type { BindingKey } from './security/bindingKey.ts';
import type { SecretHasher } from './security/secretHasher.ts';
import type { TerminalControl } from './terminalControl/terminalControl.ts';
export interface ModuleContext {
  config: Config;
  /** Absolute DATA_DIR: this instance's own files. */
  dataDir: string;
  /** Absolute SHARED_DIR (default DATA_DIR): files every instance of a cluster serves (firmware, log bundles). */
  sharedDir: string;
  log: Logger;
  metrics: Metrics;
  db: Db;
  queues: JobQueues;
  /** This instance's id, its peers and which of them live (solo parts on a single instance). */
  cluster: Cluster;
  bus: EventBus;
  live: LiveState;
  timeline: TimelineWriter;
  credentials: CredentialCache;
  devices: DeviceService;
  commands: CommandService;
  /** The campaign engine: kinds register on it, their routes and read queries go through it. */
  campaigns: CampaignEngine;
  audit: AuditLog;
  auth: AuthService;
  hasher: SecretHasher;
  bindingKey: BindingKey;
  broker: { isConnected(deviceId: string): boolean; disconnect(deviceId: string): void };
  /** Locks and the device blacklist: every module that must stop a terminal asks here. */
  terminalControl: TerminalControl;
  /** Public base URL of the HTTP API (for signed links), known once listening. */
  httpUrl(): string;
  /** Broker URL handed to terminals (PUBLIC_MQTT_URL or the listener's), known once listening. */
  mqttUrl(): string;
}

export interface ServerModule {
  name: string;
  /** Adds the module's routes to a sub-app of its own, which the HTTP app mounts with `route()`. */
  routes?(app: AppRouter): void;
  /** Those of its routes that authenticate otherwise or take larger bodies (see RouteExemption). */
  routeExemptions?: readonly RouteExemption[];
  /** After the database and queues are up, before devices can connect. */
  start?(): Promise<void>;
  /** Before the database closes; finish or hand back in-flight work. */
  stop?(): Promise<void>;
  /** On the ingest hot path: keep these synchronous and cheap. */
  onHealth?(deviceId: string, sample: HealthSample): void;
  onEvent?(deviceId: string, event: DeviceEvent): void;
  onPresence?(change: PresenceChange): void;
  onState?(deviceId: string, msg: StateMessage): void;
  /**
   * Cluster mode: the terminal is now held by another instance: drop per-terminal rule state;
   * the new holder starts it again. Synchronous and cheap, like the telemetry hooks.
   */
  onMoved?(deviceId: string): void;
}

export type ModuleFactory = (ctx: ModuleContext) => ServerModule;
