// The text a `logs.upload` sends: a header a technician can read at a glance, then recent
// activity. Built from values only; no credentials are in scope here by construction.
import type { HealthSample } from '../schemas/wire.ts';
import type { AgentConfig, FirmwareSlots } from './schemas.ts';

export interface LogBundleInput {
  deviceId: string;
  serial: string;
  firmware: FirmwareSlots;
  config: AgentConfig;
  locked: boolean;
  uptimeS: number;
  lastHealth: HealthSample | null;
  activity: readonly string[];
}

export function buildLogBundle(i: LogBundleInput): string {
  return [
    `posfleet agent log bundle`,
    `device ${i.deviceId} serial ${i.serial}`,
    `firmware slot ${i.firmware.active} A=${i.firmware.A.version} B=${i.firmware.B.version}`,
    `locked ${i.locked} uptime ${i.uptimeS}s`,
    `config ${JSON.stringify(i.config)}`,
    `last health ${i.lastHealth ? JSON.stringify(i.lastHealth) : 'none'}`,
    '',
    ...i.activity,
    '',
  ].join('\n');
}
