// Puts a device's share of the fleet faults into effect: hardware conditions at once, timed
// ones (tamper, link flaps, garbage payloads) on seeded random schedules.
import { seededRandom, seedFrom } from '../../agent/random.ts';
import type { Agent } from '../../agent/agent.ts';
import type { OtaFaults } from '../../agent/ota/simulatedOta.ts';
import type { SimFault } from '../../agent/simDrift.ts';
import type { SimulatedHardware } from '../../agent/simulatedHardware.ts';
import type { FleetFault } from './faults.ts';
import { makeGarbage } from './garbage.ts';

export type FaultTiming = Partial<Record<'tamper' | 'flap' | 'garbage' | 'ota-offline', [number, number]>>;

// ota-offline: when the device drops off the network; it comes back after as long again.
const defaultTiming: Required<FaultTiming> = { tamper: [5, 30], flap: [20, 60], garbage: [15, 45], 'ota-offline': [1, 3] };

export interface FaultScheduler {
  /** Calls `fn` after a random delay in [minS, maxS], repeatedly unless `once`. */
  every(random: () => number, range: [number, number], fn: () => void, once?: boolean): void;
  clear(): void;
}

export function createFaultScheduler(): FaultScheduler {
  const timers = new Set<NodeJS.Timeout>();
  let cleared = false;
  return {
    every(random, [minS, maxS], fn, once = false) {
      const arm = () => {
        const t = setTimeout(() => {
          timers.delete(t);
          if (cleared) return;
          fn();
          if (!once) arm();
        }, (minS + random() * (maxS - minS)) * 1000);
        timers.add(t);
      };
      if (!cleared) arm();
    },
    clear() {
      cleared = true;
      for (const t of timers) clearTimeout(t);
      timers.clear();
    },
  };
}

/** Fleet faults that are a hardware condition from the start. */
const sensorFaultOf: Partial<Record<FleetFault, SimFault>> = { battery: 'batteryLow', paper: 'paperOut', reader: 'readerError' };

/** Fleet faults that the OTA platform plays on the next install (simulatedOta's knobs). */
const otaFaultOf: Partial<Record<FleetFault, OtaFaults>> = {
  'ota-cut': { cutDownloadAt: 0.5 },
  'ota-corrupt': { corruptImage: true },
  'ota-tamper': { tamperManifest: true },
  'ota-powerloss': { powerLossDuringInstall: true },
  'ota-selftest': { selftestFail: true },
  'ota-silent': { neverAnswer: true },
  'ota-busy': { busyChecks: 2 },
};

export interface DrivenDevice {
  serial: string;
  faults: readonly FleetFault[];
  hardware: SimulatedHardware;
  /** Looked up on each firing: a re-enrolled device gets a new agent but keeps its faults. */
  agent: Agent | null;
}

export function startFaultDrivers(
  dev: DrivenDevice,
  o: { seed: number; timing?: FaultTiming; scheduler: FaultScheduler; noteFault(f: FleetFault): void },
): void {
  const random = seededRandom(seedFrom(`${dev.serial}/faults`) ^ o.seed);
  const timing = { ...defaultTiming, ...o.timing };
  for (const f of dev.faults) {
    const sensor = sensorFaultOf[f];
    const ota = otaFaultOf[f];
    if (sensor) dev.hardware.inject(sensor);
    if (ota) dev.hardware.ota.inject(ota);
    switch (f) {
      case 'tamper':
        // Counted when it happens: a short run may end before the lid is opened.
        o.scheduler.every(random, timing.tamper, () => (dev.hardware.inject('tamper'), o.noteFault('tamper')), true);
        continue;
      case 'flap':
        o.scheduler.every(random, timing.flap, () => dev.agent?.isConnected() && dev.agent.dropLink());
        break;
      case 'garbage':
        o.scheduler.every(random, timing.garbage, () => {
          const g = makeGarbage(random, Date.now());
          dev.agent?.publishRaw(g.topic, g.payload);
        });
        break;
      case 'slow-acks':
        break; // wired into the agent at creation (ackDelayMs)
      case 'ota-offline':
        o.scheduler.every(
          random,
          timing['ota-offline'],
          () => {
            const agent = dev.agent;
            if (!agent) return;
            const awayMs = (timing['ota-offline'][0] + random() * (timing['ota-offline'][1] - timing['ota-offline'][0])) * 1000;
            void agent.stop().then(() => setTimeout(() => void (dev.agent === agent && agent.start()), awayMs));
          },
          true,
        );
        break;
    }
    o.noteFault(f);
  }
}
