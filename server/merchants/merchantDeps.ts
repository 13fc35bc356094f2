// What the merchant module's services share.
import type { AuditLog } from '../audit/auditLog.ts';
import type { CommandService } from '../commands/commandService.ts';
import type { Db } from '../db/database.ts';
import type { CredentialCache } from '../devices/credentialCache.ts';
import type { DeviceService } from '../devices/deviceService.ts';
import type { TimelineWriter } from '../devices/timelineWriter.ts';
import type { EventBus } from '../events/eventBus.ts';
import type { Logger } from '../log.ts';
import type { BindingKey } from '../security/bindingKey.ts';
import type { TerminalControl } from '../terminalControl/terminalControl.ts';

export interface MerchantDeps {
  db: Db;
  audit: AuditLog;
  commands: CommandService;
  timeline: TimelineWriter;
  bus: EventBus;
  bindingKey: BindingKey;
  credentials: CredentialCache;
  devices: DeviceService;
  control: TerminalControl;
  log: Logger;
  now?: () => number;
}
