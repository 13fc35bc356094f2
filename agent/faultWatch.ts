// Turns hardware readings into fault events on transitions only, so a terminal with no paper
// says so once (and again when it is fixed) instead of on every health sample.
import type { Severity } from '../schemas/wire.ts';
import type { HardwareReadings } from './hardware.ts';

export interface FaultEvent {
  code: string;
  active: boolean;
  severity: Severity;
  detail: string;
}

interface Condition {
  code: string;
  severity: Severity;
  test(r: HardwareReadings): string | null;
}

// Thresholds mirror the default server rules (SPEC §7); the server stays the judge of faults,
// these events only make them visible sooner and on the timeline.
const conditions: Condition[] = [
  {
    code: 'battery_low',
    severity: 'major',
    test: (r) => (r.battery && r.battery.level < 15 && !r.battery.charging ? `battery ${r.battery.level}%` : null),
  },
  {
    code: 'overheat',
    severity: 'major',
    test: (r) => (r.temperatureC !== undefined && r.temperatureC > 60 ? `${r.temperatureC} °C` : null),
  },
  {
    code: 'paper_out',
    severity: 'warning',
    test: (r) => (r.printer?.status === 'paper_out' ? 'printer out of paper' : null),
  },
  {
    code: 'printer_error',
    severity: 'warning',
    test: (r) => (r.printer?.status === 'jam' || r.printer?.status === 'error' ? `printer ${r.printer.status}` : null),
  },
  {
    code: 'card_reader_error',
    severity: 'major',
    test: (r) => {
      const bad = Object.entries(r.cardReader ?? {}).filter(([, s]) => s === 'error').map(([k]) => k);
      return bad.length ? `${bad.join(', ')} reader error` : null;
    },
  },
  {
    code: 'storage_low',
    severity: 'warning',
    test: (r) => (r.storage && r.storage.freeMb / r.storage.totalMb < 0.05 ? `${r.storage.freeMb} MB free` : null),
  },
];

/** Faults active in `r`, keyed by code. */
export function activeFaults(r: HardwareReadings): Map<string, FaultEvent> {
  const out = new Map<string, FaultEvent>();
  for (const c of conditions) {
    const detail = c.test(r);
    if (detail) out.set(c.code, { code: c.code, active: true, severity: c.severity, detail });
  }
  return out;
}

/** Events for what changed between two sweeps: new faults, and cleared ones (severity info). */
export function faultTransitions(prev: ReadonlyMap<string, FaultEvent>, next: ReadonlyMap<string, FaultEvent>): FaultEvent[] {
  const events: FaultEvent[] = [];
  for (const [code, f] of next) if (!prev.has(code)) events.push(f);
  for (const [code, f] of prev) if (!next.has(code)) events.push({ ...f, active: false, severity: 'info', detail: `cleared: ${f.detail}` });
  return events;
}
