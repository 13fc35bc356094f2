// Fleet progress and end-of-run summary: plain JSON so child processes can send theirs over IPC
// and the parent can add them up.
import type { AgentStats } from '../../agent/agent.ts';
import type { FleetFault } from './faults.ts';

export interface FleetProgress {
  total: number;
  enrolled: number;
  connected: number;
  failed: number;
}

export interface FleetSummary extends FleetProgress {
  /** Failure reason → devices. */
  failures: Record<string, number>;
  registration?: { created: number; skipped: number; errors: number };
  messagesSent: Record<string, number>;
  garbageSent: number;
  eventsDropped: number;
  connects: number;
  commandsReceived: Record<string, number>;
  /** Command type → final ack state → count. */
  acks: Record<string, Record<string, number>>;
  faultsInjected: Partial<Record<FleetFault, number>>;
}

type Counts = Record<string, number>;
const addCounts = (into: Counts, from: Partial<Counts>) => {
  for (const [k, v] of Object.entries(from)) into[k] = (into[k] ?? 0) + (v ?? 0);
};

export function emptySummary(): FleetSummary {
  return {
    total: 0,
    enrolled: 0,
    connected: 0,
    failed: 0,
    failures: {},
    messagesSent: {},
    garbageSent: 0,
    eventsDropped: 0,
    connects: 0,
    commandsReceived: {},
    acks: {},
    faultsInjected: {},
  };
}

export function addAgentStats(s: FleetSummary, a: AgentStats): void {
  addCounts(s.messagesSent, a.sent);
  addCounts(s.commandsReceived, a.commands);
  s.garbageSent += a.garbageSent;
  s.eventsDropped += a.eventsDropped;
  s.connects += a.connects;
  for (const [type, states] of Object.entries(a.acks)) addCounts((s.acks[type] ??= {}), states);
}

export function mergeSummaries(parts: readonly FleetSummary[]): FleetSummary {
  const s = emptySummary();
  for (const p of parts) {
    s.total += p.total;
    s.enrolled += p.enrolled;
    s.connected += p.connected;
    s.failed += p.failed;
    s.garbageSent += p.garbageSent;
    s.eventsDropped += p.eventsDropped;
    s.connects += p.connects;
    addCounts(s.failures, p.failures);
    addCounts(s.messagesSent, p.messagesSent);
    addCounts(s.commandsReceived, p.commandsReceived);
    addCounts(s.faultsInjected, p.faultsInjected);
    for (const [type, states] of Object.entries(p.acks)) addCounts((s.acks[type] ??= {}), states);
    if (p.registration) s.registration = p.registration;
  }
  return s;
}

export function mergeProgress(parts: readonly FleetProgress[]): FleetProgress {
  return parts.reduce(
    (a, p) => ({ total: a.total + p.total, enrolled: a.enrolled + p.enrolled, connected: a.connected + p.connected, failed: a.failed + p.failed }),
    { total: 0, enrolled: 0, connected: 0, failed: 0 },
  );
}

const list = (c: Record<string, number>) =>
  Object.entries(c)
    .sort(([, a], [, b]) => b - a)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ') || '-';

export function formatSummary(s: FleetSummary, elapsedS: number): string {
  const lines = [
    `simulated fleet summary (${elapsedS.toFixed(0)} s)`,
    `  devices      ${s.total}: enrolled ${s.enrolled}, connected ${s.connected}, failed ${s.failed}`,
  ];
  if (s.registration) {
    lines.push(`  registered   created ${s.registration.created}, already there ${s.registration.skipped}, errors ${s.registration.errors}`);
  }
  if (s.failed) lines.push(`  failures     ${list(s.failures)}`);
  lines.push(
    `  messages     ${list(s.messagesSent)} garbage=${s.garbageSent} dropped-offline=${s.eventsDropped}`,
    `  connections  ${s.connects} (first connects plus reconnects after flaps, reboots, outages)`,
    `  commands     ${list(s.commandsReceived)}`,
  );
  for (const [type, states] of Object.entries(s.acks).sort()) lines.push(`  acked        ${type}: ${list(states)}`);
  lines.push(`  faults       ${list(s.faultsInjected)}`);
  return lines.join('\n');
}
