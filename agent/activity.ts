// Recent agent activity kept in memory for `logs.upload`: what a technician wants to read
// (connects, commands, faults), bounded so it never grows on a long-running terminal.
export interface Activity {
  note(line: string): void;
  lines(): string[];
}

export function createActivity(now: () => number, limit = 300): Activity {
  const ring: string[] = [];
  return {
    note(line) {
      ring.push(`${new Date(now()).toISOString()} ${line}`);
      if (ring.length > limit) ring.shift();
    },
    lines: () => [...ring],
  };
}
