// Startup progress on stderr: a bar redrawn in place on a terminal, plain lines in a log file.
import type { FleetProgress } from './summary.ts';

const WIDTH = 30;

/** `part` of `total` as a number of bar cells, within the bar whatever the counts say. */
const cells = (part: number, total: number) => (total > 0 ? Math.min(WIDTH, Math.max(0, Math.round((part / total) * WIDTH))) : WIDTH);

export function renderProgress(p: FleetProgress): string {
  // A terminal refused after it enrolled (revoked, blacklisted) counts as enrolled and as failed:
  // the two may add up to more than the fleet.
  const done = cells(p.enrolled + p.failed, p.total);
  const live = p.total ? Math.min(done, cells(p.connected, p.total)) : 0;
  const bar = '#'.repeat(live) + '+'.repeat(done - live) + '.'.repeat(WIDTH - done);
  return `[${bar}] enrolled ${p.enrolled}/${p.total}  connected ${p.connected}  failed ${p.failed}`;
}

export interface ProgressReporter {
  stop(final?: FleetProgress): void;
}

export function startProgress(read: () => FleetProgress, stream: NodeJS.WriteStream = process.stderr): ProgressReporter {
  const tty = stream.isTTY === true;
  let last = '';
  const draw = () => {
    const line = renderProgress(read());
    if (line === last) return;
    last = line;
    stream.write(tty ? `\r${line}\x1b[K` : `${line}\n`);
  };
  draw();
  const timer = setInterval(draw, tty ? 250 : 5000);
  return {
    stop(final) {
      clearInterval(timer);
      const line = renderProgress(final ?? read());
      if (tty) stream.write(`\r${line}\x1b[K\n`);
      else if (line !== last) stream.write(`${line}\n`);
    },
  };
}
