// Which simulated terminals misbehave, and how. Fractions are of the whole fleet and assigned by
// a seeded shuffle, so every process of a multi-process run (and every rerun) agrees on who is
// faulty without talking to each other.
import { seededRandom } from '../../agent/random.ts';

export const fleetFaults = [
  'battery',
  'paper',
  'reader',
  'tamper',
  'flap',
  'slow-acks',
  'garbage',
  // Firmware OTA (agent/ota/otaPlatform.ts): download cut mid-file, corrupt image, tampered
  // manifest, power loss during install, failed self-test, offline when its turn comes, never
  // answers, busy in a payment transaction.
  'ota-cut',
  'ota-corrupt',
  'ota-tamper',
  'ota-powerloss',
  'ota-selftest',
  'ota-offline',
  'ota-silent',
  'ota-busy',
] as const;
export type FleetFault = (typeof fleetFaults)[number];
export type FaultFractions = Partial<Record<FleetFault, number>>;

export const defaultFaults: FaultFractions = {
  battery: 0.05,
  paper: 0.05,
  reader: 0.05,
  tamper: 0.01,
  flap: 0.05,
  'slow-acks': 0.1,
  garbage: 0.01,
};

const isFleetFault = (s: string): s is FleetFault => (fleetFaults as readonly string[]).includes(s);

/** Parses `battery=0.05,paper=0.1`; `none` or an empty string turns faults off. */
export function parseFaults(spec: string): FaultFractions {
  const out: FaultFractions = {};
  if (spec.trim() === '' || spec.trim() === 'none') return out;
  for (const part of spec.split(',')) {
    const [name, value, ...rest] = part.split('=').map((s) => s.trim());
    if (!name || value === undefined || rest.length) throw new Error(`--faults: "${part}" is not name=fraction`);
    if (!isFleetFault(name)) throw new Error(`--faults: unknown fault "${name}" (known: ${fleetFaults.join(', ')})`);
    const f = Number(value);
    if (!Number.isFinite(f) || f < 0 || f > 1) throw new Error(`--faults: ${name} must be a fraction between 0 and 1, got "${value}"`);
    out[name] = f;
  }
  return out;
}

/** Faults of each device (index 0..n-1): exactly round(fraction·n) devices per fault. */
export function assignFaults(n: number, fractions: FaultFractions, seed: number): FleetFault[][] {
  const out: FleetFault[][] = Array.from({ length: n }, () => []);
  for (const [i, fault] of fleetFaults.entries()) {
    const count = Math.round((fractions[fault] ?? 0) * n);
    if (count === 0) continue;
    const random = seededRandom(seed * 31 + i);
    const idx = Array.from({ length: n }, (_, k) => k);
    // Partial Fisher–Yates: the first `count` slots are a uniform sample.
    for (let k = 0; k < count; k++) {
      const j = k + Math.floor(random() * (n - k));
      [idx[k], idx[j]] = [idx[j]!, idx[k]!];
      out[idx[k]!]!.push(fault);
    }
  }
  return out;
}
