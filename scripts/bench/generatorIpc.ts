// The small request/reply protocol between a bench scenario and its generator child processes
// (setup, status, close), both sides, so each scenario writes only what its terminals do.
import type { ChildProcess } from 'node:child_process';
import type { MqttClient } from 'mqtt';

interface Reply {
  id: number;
  ok: boolean;
  data?: unknown;
  error?: string;
}

export type GeneratorRequest<Setup> = ({ t: 'setup' } & Setup) | { t: 'status' } | { t: 'close' };

/** The scenario's handle on one generator process. */
export class GeneratorClient<Req extends { t: string }> {
  private next = 1;
  private waiting = new Map<number, (v: Reply) => void>();
  constructor(
    readonly child: ChildProcess,
    private readonly name: string,
  ) {
    child.on('message', (m: Reply) => this.waiting.get(m.id)?.(m));
  }
  request<T>(req: Req, timeoutMs: number): Promise<T> {
    const id = this.next++;
    return new Promise<T>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`${this.name} generator ${req.t} timed out`)), timeoutMs);
      this.waiting.set(id, (m) => {
        clearTimeout(t);
        this.waiting.delete(id);
        if (m.ok) resolve(m.data as T);
        else reject(new Error(m.error));
      });
      this.child.send({ id, req });
    });
  }
}

/** The generator process's side: answers setup, status and close over IPC. */
export function serveGenerator<Setup>(g: { setup(req: { t: 'setup' } & Setup): Promise<void>; status: unknown; clients: MqttClient[] }) {
  process.on('message', (msg: { id: number; req: GeneratorRequest<Setup> }) => {
    const reply = (data: unknown) => process.send?.({ id: msg.id, ok: true, data });
    const fail = (err: unknown) => process.send?.({ id: msg.id, ok: false, error: String(err) });
    switch (msg.req.t) {
      case 'setup':
        g.setup(msg.req).then(() => reply(g.status), fail);
        break;
      case 'status':
        reply(g.status);
        break;
      case 'close':
        Promise.all(g.clients.map((c) => new Promise<void>((ok) => c.end(true, {}, () => ok())))).then(() => {
          reply(null);
          setTimeout(() => process.exit(0), 50);
        }, fail);
        break;
    }
  });
}
