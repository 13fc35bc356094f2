// What the soak scenario's faulty terminals do, as pure functions of the terminal and its
// sample number: sensor faults that come and go (so faults open and auto-resolve all run
// long), link flaps and garbage payloads. The fault mode lives in the bench, not in the agent.
import type { HealthSample } from '../../schemas/wire.ts';

export const soakFaultModes = ['none', 'sensor', 'flap', 'garbage'] as const;
export type SoakFaultMode = (typeof soakFaultModes)[number];

/** Sensor conditions the default fault rules turn into faults that resolve by themselves. */
export const sensorFaults = ['battery', 'paper', 'reader', 'overheat'] as const;
export type SensorFault = (typeof sensorFaults)[number];

/** One terminal in `share` (e.g. 0.1) is faulty, the modes taking turns, so every mode runs. */
export function faultModeOf(index: number, share: number): SoakFaultMode {
  if (!(share > 0)) return 'none';
  const every = Math.max(1, Math.round(1 / share));
  if (index % every !== 0) return 'none';
  const faulty = soakFaultModes.slice(1);
  return faulty[Math.floor(index / every) % faulty.length]!;
}

export const sensorFaultOf = (index: number): SensorFault => sensorFaults[index % sensorFaults.length]!;

/** A sensor-faulty terminal shows its fault for `phase` samples, then is healthy for as many. */
export const faultShowing = (seq: number, phase = 2): boolean => Math.floor(seq / phase) % 2 === 0;

export function healthSampleOf(seq: number, uptimeS: number, fault: SensorFault | null, ts = Date.now()): HealthSample {
  const on = fault !== null && faultShowing(seq);
  return {
    ts,
    seq,
    battery: on && fault === 'battery' ? { level: 10, charging: false } : { level: 80, charging: false },
    temperatureC: on && fault === 'overheat' ? 70 : 36,
    printer: { status: on && fault === 'paper' ? 'paper_out' : 'ok' },
    cardReader: { msr: 'ok', icc: on && fault === 'reader' ? 'error' : 'ok', nfc: 'ok' },
    signal: { type: 'wifi', rssi: -60 },
    uptimeS,
  };
}

/** A `diag.run` result as the agent's handler gives it: the failing component says `fail`. */
export function diagResultOf(components: readonly string[], fault: SensorFault | null, seq: number): Record<string, unknown> {
  const on = fault !== null && faultShowing(seq);
  const failing = on && fault === 'paper' ? 'printer' : on && fault === 'reader' ? 'cardReader' : null;
  const result: Record<string, unknown> = { details: {} };
  for (const c of components) result[c] = c === failing ? 'fail' : 'pass';
  return result;
}
