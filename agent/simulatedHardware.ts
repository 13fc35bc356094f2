// A simulated terminal: the drift model of simDrift.ts driven by an injectable clock and a seeded
// random source, plus fault-injection knobs for tests and the simulated fleet: sensor faults here,
// OTA faults in the OTA platform it carries (`ota`, ota/simulatedOta.ts).
import type { Hardware, SelfTestComponent, SelfTestOutcome } from './hardware.ts';
import { createSimulatedOta, type SimulatedOta } from './ota/simulatedOta.ts';
import { seededRandom } from './random.ts';
import {
  STEP_S,
  initialState,
  onClear,
  onInject,
  onReboot,
  readingsOf,
  step,
  type SimFault,
  type SimState,
} from './simDrift.ts';

export interface SimulatedHardwareOptions {
  seed: number;
  now?: () => number;
  /** Simulated seconds per real second, so a short demo shows a day's drift. */
  timeScale?: number;
  rebootDelayMs?: number;
  selfTestDelayMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

export interface SimulatedHardware extends Hardware {
  inject(fault: SimFault): void;
  clear(fault: SimFault): void;
  activeFaults(): SimFault[];
  /** Its OTA platform: faults to play (`ota.inject({...})`) and what the downloads did. */
  readonly ota: SimulatedOta;
  /** The raw model state, for tests and debugging. */
  state(): Readonly<SimState>;
  /** Installs the terminal at a site (its merchant): its location fixes are reported around it from now on. */
  placeAt(site: { lat: number; lon: number }): void;
}

// Bounds the work one read can trigger after a long pause (a suspended laptop, a test clock jump).
const MAX_STEPS_PER_READ = 20_000;

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function createSimulatedHardware(opts: SimulatedHardwareOptions): SimulatedHardware {
  const now = opts.now ?? Date.now;
  const scale = opts.timeScale ?? 1;
  const sleep = opts.sleep ?? realSleep;
  const random = seededRandom(opts.seed);
  const faults = new Set<SimFault>();
  const tamperListeners = new Set<() => void>();
  let state = initialState(random);
  let lastMs = now();
  let carryS = 0;

  function advance(): SimState {
    const t = now();
    carryS += (Math.max(0, t - lastMs) / 1000) * scale;
    lastMs = t;
    let steps = Math.floor(carryS / STEP_S);
    carryS -= steps * STEP_S;
    steps = Math.min(steps, MAX_STEPS_PER_READ);
    for (let i = 0; i < steps; i++) state = step(state, faults, random);
    return state;
  }
  const view = () => readingsOf(advance(), faults);

  function selfTestOf(component: SelfTestComponent): SelfTestOutcome {
    const r = view();
    switch (component) {
      case 'printer': {
        const s = r.printer.status;
        return s === 'ok' || s === 'paper_low' ? { status: 'pass' } : { status: 'fail', detail: `printer ${s}` };
      }
      case 'cardReader': {
        const bad = Object.entries(r.cardReader).filter(([, v]) => v === 'error');
        return bad.length === 0 ? { status: 'pass' } : { status: 'fail', detail: bad.map(([k]) => `${k} error`).join(', ') };
      }
      case 'storage': {
        const st = r.storage;
        return st.freeMb / st.totalMb > 0.05 ? { status: 'pass' } : { status: 'fail', detail: 'storage almost full' };
      }
      case 'network': {
        const rssi = r.signal.rssi;
        return rssi > -110 ? { status: 'pass' } : { status: 'fail', detail: `rssi ${rssi} dBm` };
      }
    }
  }

  const hardware: Hardware = {
    readBattery: () => view().battery,
    readTemperature: () => view().temperatureC,
    readPrinter: () => view().printer,
    readCardReaders: () => view().cardReader,
    readSignal: () => view().signal,
    readStorage: () => view().storage,
    readMemory: () => view().memory,
    readTamper: () => view().tamper,
    readLocation: () => view().location,
    async selfTest(component) {
      await sleep(opts.selfTestDelayMs ?? 200);
      return selfTestOf(component);
    },
    async reboot() {
      await sleep(opts.rebootDelayMs ?? 3000);
      state = onReboot(advance());
    },
    onTamper(listener) {
      tamperListeners.add(listener);
      return () => tamperListeners.delete(listener);
    },
  };
  return Object.assign(hardware, {
    ota: createSimulatedOta(hardware),
    inject(fault: SimFault) {
      advance();
      faults.add(fault);
      state = onInject(state, fault);
      if (fault === 'tamper') for (const l of tamperListeners) l();
    },
    clear(fault: SimFault) {
      advance();
      faults.delete(fault);
      state = onClear(state, fault);
    },
    activeFaults: () => [...faults],
    state: (): Readonly<SimState> => advance(),
    placeAt(site: { lat: number; lon: number }) {
      state = { ...advance(), home: { lat: site.lat, lon: site.lon } };
    },
  });
}
