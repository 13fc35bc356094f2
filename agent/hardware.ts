// The hardware abstraction: everything the agent needs from the terminal, so the same agent
// runs on a real device driver or on the simulator.
import type { SelfTestComponent } from '../schemas/commands.ts';
import type { HealthSample } from '../schemas/wire.ts';

type Part<K extends keyof HealthSample> = NonNullable<HealthSample[K]>;

export type BatteryReading = Part<'battery'>;
export type PrinterReading = Part<'printer'>;
export type CardReaderReading = Part<'cardReader'>;
export type SignalReading = Part<'signal'>;
export type StorageReading = Part<'storage'>;
export type MemoryReading = Part<'memory'>;
export type LocationReading = Part<'location'>;

/** What one sweep of the sensors yields: a health sample minus what the agent itself adds. */
export type HardwareReadings = Omit<HealthSample, 'ts' | 'seq' | 'uptimeS' | 'txn'>;

export type { SelfTestComponent };
export interface SelfTestOutcome {
  status: 'pass' | 'fail';
  detail?: string;
}

export interface Hardware {
  readBattery(): BatteryReading;
  readTemperature(): number;
  readPrinter(): PrinterReading;
  readCardReaders(): CardReaderReading;
  readSignal(): SignalReading;
  readStorage(): StorageReading;
  readMemory(): MemoryReading;
  readTamper(): boolean;
  /** Undefined when the terminal has no fix (no GPS, indoors). */
  readLocation(): LocationReading | undefined;
  selfTest(component: SelfTestComponent): Promise<SelfTestOutcome>;
  /** Resolves once the terminal is back up; the agent reconnects afterwards. */
  reboot(): Promise<void>;
  /** Tamper switches interrupt rather than wait for the next poll; returns an unsubscribe. */
  onTamper?(listener: () => void): () => void;
}

export function readAll(hw: Hardware): HardwareReadings {
  const location = hw.readLocation();
  return {
    battery: hw.readBattery(),
    temperatureC: hw.readTemperature(),
    printer: hw.readPrinter(),
    cardReader: hw.readCardReaders(),
    signal: hw.readSignal(),
    storage: hw.readStorage(),
    memory: hw.readMemory(),
    tamper: hw.readTamper(),
    ...(location ? { location } : {}),
  };
}
