// Puts a device's share of the fleet faults into effect: hardware conditions at once, timed
// ones (tamper, link flaps, garbage payloads) on seeded random schedules.
import { seededRandom, seedFrom } from '../../agent/random.ts';
import type { Agent } from '../../agent/agent.ts';
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
    switch (f) {
      case 'battery':
        dev.hardware.inject('batteryLow');
        break;
      case 'paper':
        dev.hardware.inject('paperOut');
        break;
      case 'reader':
        dev.hardware.inject('readerError');
        break;
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
      case 'ota-cut':
        dev.hardware.ota.inject({ cutDownloadAt: 0.5 });
        break;
      case 'ota-corrupt':
        dev.hardware.ota.inject({ corruptImage: true });
        break;
      case 'ota-tamper':
        dev.hardware.ota.inject({ tamperManifest: true });
        break;
      case 'ota-powerloss':
        dev.hardware.ota.inject({ powerLossDuringInstall: true });
        break;
      case 'ota-selftest':
        dev.hardware.ota.inject({ selftestFail: true });
        break;
      case 'ota-silent':
        dev.hardware.ota.inject({ neverAnswer: true });
        break;
      case 'ota-busy':
        dev.hardware.ota.inject({ busyChecks: 2 });
        break;
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
