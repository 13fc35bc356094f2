// What the merchant module's services share.
import { randomBytes } from 'node:crypto';
import type { AuditLog } from '../audit/auditLog.ts';
import type { CommandService } from '../commands/commandService.ts';
import type { Db } from '../db/database.ts';
import type { CredentialCache } from '../devices/credentialCache.ts';
import type { DeviceService } from '../devices/deviceService.ts';
import type { TimelineWriter } from '../devices/timelineWriter.ts';
import type { EventBus } from '../events/eventBus.ts';
import type { Principal } from '../http/types.ts';
import type { Logger } from '../log.ts';
import type { BindingKey } from '../security/bindingKey.ts';

export interface MerchantDeps {
  db: Db;
  audit: AuditLog;
  commands: CommandService;
  timeline: TimelineWriter;
  bus: EventBus;
  bindingKey: BindingKey;
  credentials: CredentialCache;
  devices: DeviceService;
  broker: { isConnected(deviceId: string): boolean; disconnect(deviceId: string): void };
  log: Logger;
  now?: () => number;
}

/** Who did it and from where; `principal` null for the system (expiry, rules). */
export interface Actor {
  principal: Principal | null;
  ip?: string;
}

export const SYSTEM: Actor = { principal: null };

export const newId = (prefix: string) => `${prefix}_${randomBytes(12).toString('base64url')}`;

/** Name of the constraint a database error violated, whichever driver raised it. */
export function violatedConstraint(err: unknown): string | undefined {
  for (let e = err as { constraint?: unknown; cause?: unknown; message?: unknown } | undefined; e; e = e.cause as typeof e) {
    if (typeof e.constraint === 'string') return e.constraint;
    if (typeof e.message === 'string') {
      const m = /unique constraint "([^"]+)"/.exec(e.message);
      if (m) return m[1];
    }
  }
  return undefined;
}

/** Commands that hold the terminal's merchant state live as long as the API allows. */
export const LONG_TTL_S = 30 * 24 * 3600;
