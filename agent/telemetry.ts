// Periodic health sampling: reads the hardware, numbers samples per boot, and turns hardware
// changes (faults appearing or clearing, the tamper switch) into events.
import type { Logger } from 'pino';
import type { DeviceEvent, HealthSample, Severity } from '../schemas/wire.ts';
import { activeFaults, faultTransitions, type FaultEvent } from './faultWatch.ts';
import { readAll, type Hardware } from './hardware.ts';

export interface TelemetryDeps {
  hardware: Hardware;
  now: () => number;
  log: Logger;
  raiseEvent(type: DeviceEvent['type'], data: DeviceEvent['data'], severity?: Severity): void;
  /** Called with every sample; the agent decides whether it can go out (health is not queued). */
  publishHealth(sample: HealthSample): void;
}

export interface Telemetry {
  sample(): HealthSample;
  /** (Re)starts sampling every `intervalS` seconds. */
  start(intervalS: number): void;
  stop(): void;
  isRunning(): boolean;
  /** A (re)boot: sample numbering and uptime start over. */
  newBoot(): void;
  /** Tamper reported by an interrupt rather than a poll; raised once until the switch resets. */
  tamper(source: string): void;
  lastSample(): HealthSample | null;
  uptimeS(): number;
}

export function createTelemetry(d: TelemetryDeps): Telemetry {
  let bootAt = d.now();
  let seq = 0;
  let timer: NodeJS.Timeout | null = null;
  let faults = new Map<string, FaultEvent>();
  let tamperLatched = false;
  let last: HealthSample | null = null;

  const uptimeS = () => Math.round((d.now() - bootAt) / 1000);

  function tamper(source: string) {
    if (tamperLatched) return;
    tamperLatched = true;
    d.log.warn({ source }, 'tamper detected');
    d.raiseEvent('tamper', { source }, 'critical');
  }

  function sample(): HealthSample {
    const readings = readAll(d.hardware);
    const next = activeFaults(readings);
    for (const f of faultTransitions(faults, next)) d.raiseEvent('fault', { code: f.code, active: f.active, detail: f.detail }, f.severity);
    faults = next;
    if (readings.tamper) tamper('poll');
    else tamperLatched = false;
    last = { ts: d.now(), seq: seq++, ...readings, uptimeS: uptimeS() };
    d.publishHealth(last);
    return last;
  }

  const stop = () => {
    if (timer) clearInterval(timer);
    timer = null;
  };

  return {
    sample,
    start(intervalS) {
      stop();
      timer = setInterval(sample, intervalS * 1000);
    },
    stop,
    isRunning: () => timer !== null,
    newBoot() {
      bootAt = d.now();
      seq = 0;
    },
    tamper,
    lastSample: () => last,
    uptimeS,
  };
}
