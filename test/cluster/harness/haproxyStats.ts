// HAProxy's admin socket: whether it answers, and `show stat` read as one row per server, which
// is how a test sees which instances are up and where connections went.
import { existsSync } from 'node:fs';
import { createConnection } from 'node:net';

export type ServerStatus = 'UP' | 'DOWN' | 'MAINT' | 'NOLB' | 'DRAIN' | string;

export interface ServerStat {
  name: string;
  /** 'mqtt' or 'http'. */
  proxy: string;
  status: ServerStatus;
  /** Sessions open now. */
  current: number;
  /** Sessions since start (or since the last reload). */
  total: number;
}

/** One admin-socket command; its whole answer. */
export function adminCommand(socketPath: string, command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(socketPath);
    let answer = '';
    socket.setTimeout(5_000, () => socket.destroy(new Error(`haproxy admin socket: no answer to "${command}"`)));
    socket.on('connect', () => socket.write(`${command}\n`));
    socket.on('data', (b: Buffer) => (answer += b.toString()));
    socket.on('end', () => resolve(answer));
    socket.on('error', reject);
  });
}

/** `show stat` CSV: a `# `-prefixed header, then one row per frontend, server and backend. */
export function parseStat(csv: string): ServerStat[] {
  const lines = csv.split('\n').filter((l) => l.trim() !== '');
  const header = lines.shift()?.replace(/^# /, '').split(',') ?? [];
  const col = (name: string) => header.indexOf(name);
  const [px, sv, scur, stot, status] = ['pxname', 'svname', 'scur', 'stot', 'status'].map(col);
  if ([px, sv, scur, stot, status].some((i) => i === undefined || i < 0))
    throw new Error(`unexpected show stat header: ${header.join(',')}`);
  const at = (cells: string[], i: number | undefined) => (i === undefined ? '' : (cells[i] ?? ''));
  return lines
    .map((l) => l.split(','))
    .filter((cells) => !['FRONTEND', 'BACKEND'].includes(at(cells, sv)))
    .map((cells) => ({
      proxy: at(cells, px),
      name: at(cells, sv),
      // "UP 1/2" while a state change is under way: the word is what counts.
      status: at(cells, status).split(' ')[0] ?? '',
      current: Number(at(cells, scur)),
      total: Number(at(cells, stot)),
    }));
}

/** HAProxy opens its admin socket after binding its listeners: once it answers, ports are taken. A probe
 * of the ports themselves would be forwarded to a server and counted in its sessions. */
export async function answers(socketPath: string): Promise<boolean> {
  if (!existsSync(socketPath)) return false;
  return adminCommand(socketPath, 'show info').then(
    (info) => info.includes('Pid:'),
    () => false,
  );
}
