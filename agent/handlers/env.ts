// What command handlers may use from the agent: narrow on purpose, so a handler cannot reach
// into the MQTT link or the dispatcher.
import type { Logger } from 'pino';
import type { AppInventory } from '../../schemas/apps.ts';
import type { Hardware } from '../hardware.ts';
import type { StateStore } from '../stateStore.ts';
import type { AgentConfig, Enrollment } from '../schemas.ts';

export interface HandlerEnv {
  hardware: Hardware;
  store: StateStore;
  log: Logger;
  now: () => number;
  isConnected(): boolean;
  /** Disconnects, restarts the terminal and starts reconnecting; resolves once it is back up. */
  reboot(): Promise<void>;
  /** Applies a merged config at runtime (e.g. a new health interval). */
  applyConfig(config: AgentConfig): void;
  /** A short text bundle of recent agent activity, for logs.upload. */
  logBundle(): string;
  /** A trust.set changed the pinned publishers or brokers: use and report them. */
  trustChanged?(enrollment: Enrollment): void;
  /** Pinned CA for HTTPS uploads and downloads. */
  ca?: string | Buffer;
  /** The apps installed at the factory: the inventory until the first app.install (agent/apps/). */
  factoryApps?: AppInventory;
  /** Something the state message reports changed (the app inventory): publish it now. */
  stateChanged?(): void;
}
