// Commands created one terminal after another through the API while a failure is injected:
// what was accepted with a 2xx (by id, to follow up) and how every answer went (answerLoop.ts).
import type { DeviceSpec } from '../protocol.ts';
import { startAnswerLoop, type AnswerLoop, type LoopTally } from './answerLoop.ts';

export interface AcceptedCommand {
  id: string;
  deviceId: string;
}

export interface CommandLoop extends Pick<AnswerLoop, 'phase'> {
  stop(): Promise<LoopTally & { accepted: AcceptedCommand[] }>;
}

const idOf = (body: unknown): string | undefined =>
  typeof body === 'object' && body !== null && 'id' in body && typeof body.id === 'string' ? body.id : undefined;

export function startCommandLoop(
  devices: readonly DeviceSpec[],
  opts: { baseUrl: string; token: string; lanes: number; boundMs: number; pauseMs: number },
): CommandLoop {
  const accepted: AcceptedCommand[] = [];
  const deviceOfPath = new Map(devices.map((d) => [`/v1/devices/${encodeURIComponent(d.id)}/commands`, d.id]));
  const paths = [...deviceOfPath.keys()];
  let next = 0;
  const loop = startAnswerLoop({
    ...opts,
    next: () => ({ method: 'POST', path: paths[next++ % paths.length]!, body: { type: 'diag.run', payload: {} } }),
    onAnswer(req, a) {
      if (a.status < 200 || a.status >= 300) return;
      const id = idOf(a.body);
      if (id) accepted.push({ id, deviceId: deviceOfPath.get(req.path)! });
      else a.unclear = `${req.path}: a ${a.status} without a command id`;
    },
  });
  return {
    phase: loop.phase,
    async stop() {
      return { ...(await loop.stop()), accepted };
    },
  };
}
