// The simulated terminal's physics, as pure functions of (state, elapsed time, randomness),
// so drift is reproducible from a seed and testable without timers.
import { gaussian } from './random.ts';
import type { CardReaderReading, HardwareReadings } from './hardware.ts';

export const simFaults = [
  'batteryLow',
  'paperOut',
  'readerError',
  'tamper',
  'overheat',
  'storageLow',
  'printerJam',
  'relocated',
  'noSignal',
] as const;
export type SimFault = (typeof simFaults)[number];

type ReaderStatus = NonNullable<CardReaderReading['msr']>;
const readerNames = ['msr', 'icc', 'nfc'] as const;

export interface SimState {
  battery: number;
  plugged: boolean;
  temperatureC: number;
  /** Fraction of the paper roll left. */
  paper: number;
  jam: boolean;
  readers: Record<(typeof readerNames)[number], ReaderStatus>;
  signalType: 'wifi' | 'cellular';
  rssi: number;
  storageTotalMb: number;
  storageFreeMb: number;
  memoryTotalMb: number;
  memoryFreeMb: number;
  tamper: boolean;
  home: { lat: number; lon: number };
}

/** One simulation step; the model always advances in whole steps so the trajectory does not
 * depend on how often it is read. */
export const STEP_S = 5;

const BATTERY_LOW_LEVEL = 12;
const PAPER_LOW = 0.1;

export function initialState(random: () => number): SimState {
  const cellular = random() < 0.4;
  const storageTotalMb = random() < 0.5 ? 8192 : 16384;
  return {
    battery: 40 + random() * 60,
    plugged: random() < 0.5,
    temperatureC: 33 + random() * 4,
    paper: 0.3 + random() * 0.7,
    jam: false,
    readers: { msr: 'ok', icc: 'ok', nfc: 'ok' },
    signalType: cellular ? 'cellular' : 'wifi',
    rssi: cellular ? -80 + random() * 15 : -60 + random() * 15,
    storageTotalMb,
    storageFreeMb: storageTotalMb * (0.5 + random() * 0.3),
    memoryTotalMb: 2048,
    memoryFreeMb: 700 + random() * 400,
    tamper: false,
    // Somewhere in western Europe; only the stability of the fix matters to the server.
    home: { lat: 43 + random() * 9, lon: -1 + random() * 14 },
  };
}

const clamp = (x: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, x));
/** Poisson arrival in one step for an event with the given mean interval. */
const happens = (random: () => number, meanIntervalS: number) => random() < STEP_S / meanIntervalS;

export function step(s: SimState, faults: ReadonlySet<SimFault>, random: () => number): SimState {
  const n = { ...s, readers: { ...s.readers } };
  const noise = () => gaussian(random) * Math.sqrt(STEP_S);

  // Plugged in and out every couple of hours, like a counter terminal taken to tables.
  if (faults.has('batteryLow')) n.plugged = false;
  else if (happens(random, 2 * 3600)) n.plugged = !n.plugged;
  // ~10 %/h drain on battery (a shift), ~40 %/h charge.
  n.battery += n.plugged ? (40 / 3600) * STEP_S : -(10 / 3600) * STEP_S * (0.5 + random());
  n.battery = clamp(n.battery, faults.has('batteryLow') ? 2 : 0, faults.has('batteryLow') ? BATTERY_LOW_LEVEL : 100);

  // Ornstein–Uhlenbeck around ~35 °C; charging warms the case.
  const target = faults.has('overheat') ? 68 : 35 + (n.plugged && n.battery < 100 ? 4 : 0);
  n.temperatureC = clamp(n.temperatureC + 0.01 * STEP_S * (target - n.temperatureC) + 0.05 * noise(), -20, 90);

  // A receipt every few minutes, ~250 receipts a roll; an empty roll is refilled within the hour.
  if (faults.has('paperOut')) n.paper = 0;
  else if (n.paper <= 0) {
    if (happens(random, 1800)) n.paper = 1;
  } else if (happens(random, 240)) n.paper = Math.max(0, n.paper - 0.004);
  if (n.jam ? happens(random, 600) : happens(random, 3 * 86400)) n.jam = !n.jam;

  // Transient reader errors (a dirty head, a bad card) that clear after a while.
  for (const r of readerNames) {
    if (n.readers[r] === 'ok' && happens(random, 2 * 86400)) n.readers[r] = 'error';
    else if (n.readers[r] === 'error' && happens(random, 600)) n.readers[r] = 'ok';
  }

  const [lo, hi, mid] = n.signalType === 'cellular' ? [-115, -50, -78] : [-90, -35, -58];
  n.rssi = clamp(n.rssi + 0.005 * STEP_S * (mid - n.rssi) + 0.6 * noise(), lo, hi);

  // Logs fill storage slowly; housekeeping frees it now and then.
  n.storageFreeMb = clamp(n.storageFreeMb - random() * 0.02 * STEP_S, 0, n.storageTotalMb);
  if (happens(random, 6 * 3600)) n.storageFreeMb = Math.min(n.storageTotalMb * 0.8, n.storageFreeMb + 200);
  n.memoryFreeMb = clamp(n.memoryFreeMb + 0.02 * STEP_S * (900 - n.memoryFreeMb) + 8 * noise(), 64, n.memoryTotalMb);

  if (faults.has('tamper')) n.tamper = true;
  return n;
}

/** Applies a fault the moment it is injected, rather than waiting for the model to get there. */
export function onInject(s: SimState, fault: SimFault): SimState {
  switch (fault) {
    case 'batteryLow':
      return { ...s, plugged: false, battery: Math.min(s.battery, BATTERY_LOW_LEVEL) };
    case 'paperOut':
      return { ...s, paper: 0 };
    case 'tamper':
      return { ...s, tamper: true };
    case 'printerJam':
      return { ...s, jam: true };
    default:
      return s;
  }
}

/** Clearing a fault is what a technician's visit does. */
export function onClear(s: SimState, fault: SimFault): SimState {
  switch (fault) {
    case 'paperOut':
      return { ...s, paper: 1 };
    case 'tamper':
      return { ...s, tamper: false };
    case 'printerJam':
      return { ...s, jam: false };
    case 'readerError':
      return { ...s, readers: { msr: 'ok', icc: 'ok', nfc: 'ok' } };
    default:
      return s;
  }
}

/** A reboot clears transient conditions; a tamper latch survives it. */
export function onReboot(s: SimState): SimState {
  return { ...s, jam: false, readers: { msr: 'ok', icc: 'ok', nfc: 'ok' }, memoryFreeMb: s.memoryTotalMb * 0.6 };
}

const round1 = (x: number) => Math.round(x * 10) / 10;

export function readingsOf(s: SimState, faults: ReadonlySet<SimFault>): Required<HardwareReadings> {
  const printer = s.jam ? 'jam' : s.paper <= 0 ? 'paper_out' : s.paper < PAPER_LOW ? 'paper_low' : 'ok';
  const readers = faults.has('readerError') ? { ...s.readers, icc: 'error' as const } : s.readers;
  const storageFree = faults.has('storageLow') ? s.storageTotalMb * 0.02 : s.storageFreeMb;
  // ~5 km off: out of any merchant geofence.
  const offset = faults.has('relocated') ? 0.045 : 0;
  return {
    battery: { level: round1(s.battery), charging: s.plugged && s.battery < 100 },
    temperatureC: round1(s.temperatureC),
    printer: { status: printer },
    cardReader: readers,
    signal: { type: s.signalType, rssi: faults.has('noSignal') ? -120 : Math.round(s.rssi) },
    storage: { freeMb: Math.round(storageFree), totalMb: s.storageTotalMb },
    memory: { freeMb: Math.round(s.memoryFreeMb) },
    tamper: s.tamper,
    location: {
      lat: round6(s.home.lat + offset),
      lon: round6(s.home.lon + offset),
      accuracyM: s.signalType === 'cellular' ? 150 : 25,
      source: s.signalType === 'cellular' ? 'cell' : 'wifi',
    },
  };
}

const round6 = (x: number) => Math.round(x * 1e6) / 1e6;
