// The orchestrator's handle on its load-generator children.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { sourceAddress } from './ports.ts';
import { terminate, track } from './procs.ts';
import { isReply, type DeviceSpec, type Envelope, type ReplyFor, type Request, type TargetSpec } from './protocol.ts';
import { withTimeout } from './util.ts';

const entry = fileURLToPath(new URL('./loadgen.ts', import.meta.url));

/** Connections per generator: far below the 20k descriptor limit and the ~28k ephemeral ports
 *  of one source address, and small enough that one generator's event loop keeps up. */
export const devicesPerGenerator = 2500;

export function generatorCount(devices: number): number {
  return Math.max(2, Math.ceil(devices / devicesPerGenerator));
}

export class LoadgenPool {
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  /** Device count per generator after the last `assign`. */
  shares: number[] = [];

  private constructor(private readonly children: ChildProcess[]) {
    for (const child of children) {
      // A send to a generator that just died (Ctrl-C) surfaces here; the request itself fails.
      child.on('error', () => {});
      child.on('message', (msg: unknown) => {
        if (!isReply(msg)) return;
        const w = this.waiting.get(msg.id);
        if (!w) return;
        this.waiting.delete(msg.id);
        if (msg.ok) w.resolve(msg.data);
        else w.reject(new Error(msg.error));
      });
      child.once('exit', (code, signal) => {
        for (const w of this.waiting.values()) w.reject(new Error(`load generator ${child.pid} exited (code ${code}, signal ${signal})`));
        this.waiting.clear();
      });
    }
  }

  static start(count: number): LoadgenPool {
    const children = Array.from({ length: count }, () =>
      track(fork(entry, [], { execArgv: ['--import', 'tsx'], detached: true, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })),
    );
    return new LoadgenPool(children);
  }

  get size(): number {
    return this.children.length;
  }

  get pids(): number[] {
    return this.children.map((c) => c.pid ?? -1).filter((p) => p > 0);
  }

  /** The first source address no generator uses, for the orchestrator's own MQTT clients. */
  get spareSourceAddress(): string {
    return sourceAddress(this.children.length);
  }

  request<R extends Request>(index: number, req: R, timeoutMs: number): Promise<ReplyFor<R>> {
    const child = this.children[index];
    if (!child) return Promise.reject(new Error(`no load generator ${index}`));
    const id = this.nextId++;
    const answer = new Promise<ReplyFor<R>>((resolve, reject) => {
      this.waiting.set(id, { resolve: (v) => resolve(v as ReplyFor<R>), reject });
    });
    if (!child.connected) return Promise.reject(new Error(`load generator ${index} is gone`));
    child.send({ id, req } satisfies Envelope, (err) => {
      if (err) this.waiting.get(id)?.reject(err);
    });
    return withTimeout(answer, timeoutMs, `load generator ${index} ${req.t}`).finally(() => this.waiting.delete(id));
  }

  all<R extends Request>(reqFor: (index: number) => R, timeoutMs: number): Promise<ReplyFor<R>[]> {
    return Promise.all(this.children.map((_, i) => this.request(i, reqFor(i), timeoutMs)));
  }

  /** Splits the fleet in contiguous slices, one per generator, each on its own source address. */
  async assign(devices: readonly DeviceSpec[], host: string, port: number): Promise<void> {
    const per = Math.ceil(devices.length / this.size);
    const slices = this.children.map((_, i) => devices.slice(i * per, (i + 1) * per));
    this.shares = slices.map((s) => s.length);
    await this.all((i) => ({ t: 'setup', target: { host, port, localAddress: sourceAddress(i) }, devices: slices[i]! }), 60_000);
  }

  /** One slice per generator, each with a target of its own (a cluster's instances). */
  async assignEach(slices: readonly DeviceSpec[][], targetOf: (generator: number) => Omit<TargetSpec, 'localAddress'>): Promise<void> {
    if (slices.length !== this.size) throw new Error(`${slices.length} slices for ${this.size} generators`);
    this.shares = slices.map((s) => s.length);
    await this.all((i) => ({ t: 'setup', target: { ...targetOf(i), localAddress: sourceAddress(i) }, devices: [...slices[i]!] }), 60_000);
  }

  async stop(): Promise<void> {
    await Promise.all(this.children.map((c) => terminate(c, 5000)));
  }
}
