// Requests asked in a loop while a failure is injected, every answer recorded under the phase it
// was asked in (before, down, after): how many of each status and code, the slowest, and the
// answers that were not clear (hung past the bound, an error without the catalog body).
import { ask, tallyKey, type Answer } from './answers.ts';

export interface PhaseTally {
  answers: number;
  /** By status and code: {"201": 120, "503 unavailable": 4}. */
  byAnswer: Record<string, number>;
  slowestMs: number;
  /** performance.now() when the first 2xx of the phase came back; absent without one. */
  firstOkAt?: number;
}

export interface LoopTally {
  phases: Record<string, PhaseTally>;
  /** The first 10 answers that were not clear. */
  unclear: string[];
  unclearCount: number;
}

export interface LoopRequest {
  method: string;
  path: string;
  body?: unknown;
}

export interface AnswerLoopOptions {
  baseUrl: string;
  /** null: an unauthenticated probe (/readyz). */
  token: string | null;
  /** Requests in flight at once. */
  lanes: number;
  /** Longer than this without an answer is a hang. */
  boundMs: number;
  /** Pause of each lane between two requests. */
  pauseMs: number;
  next(): LoopRequest;
  /** Sees each answer before it is tallied; may mark it unclear. */
  onAnswer?(req: LoopRequest, answer: Answer): void;
}

export interface AnswerLoop {
  /** Answers to requests sent from now on are counted under `phase`. */
  phase(name: string): void;
  stop(): Promise<LoopTally>;
}

export function startAnswerLoop(opts: AnswerLoopOptions): AnswerLoop {
  const tally: LoopTally = { phases: {}, unclear: [], unclearCount: 0 };
  let current = 'before';
  let running = true;
  const record = (phase: string, req: LoopRequest, a: Answer) => {
    opts.onAnswer?.(req, a);
    const p = (tally.phases[phase] ??= { answers: 0, byAnswer: {}, slowestMs: 0 });
    p.answers++;
    p.byAnswer[tallyKey(a)] = (p.byAnswer[tallyKey(a)] ?? 0) + 1;
    p.slowestMs = Math.max(p.slowestMs, Math.round(a.ms));
    if (a.status >= 200 && a.status < 300) p.firstOkAt ??= performance.now();
    if (a.unclear) {
      tally.unclearCount++;
      if (tally.unclear.length < 10) tally.unclear.push(`${phase}: ${a.unclear}`);
    }
  };
  const lane = async () => {
    while (running) {
      const phase = current;
      const req = opts.next();
      record(phase, req, await ask(opts.baseUrl, opts.token, req.method, req.path, req.body, opts.boundMs));
      if (opts.pauseMs > 0) await new Promise((resolve) => setTimeout(resolve, opts.pauseMs));
    }
  };
  const lanes = Array.from({ length: Math.max(1, opts.lanes) }, lane);
  return {
    phase: (name) => (current = name),
    async stop() {
      running = false;
      await Promise.all(lanes);
      return tally;
    },
  };
}

const notReady = (body: unknown): boolean => typeof body === 'object' && body !== null && 'status' in body && body.status === 'not_ready';

/** GET /readyz every `everyMs`: what a readiness probe saw in each phase. Its 503 is documented
 *  as `{status: "not_ready", checks}` (operations.md, Health checks), not an error body. */
export const startReadyProbe = (baseUrl: string, everyMs: number): AnswerLoop =>
  startAnswerLoop({
    baseUrl,
    token: null,
    lanes: 1,
    boundMs: 5000,
    pauseMs: everyMs,
    next: () => ({ method: 'GET', path: '/readyz' }),
    onAnswer(_req, a) {
      if (a.status === 503 && notReady(a.body)) delete a.unclear;
    },
  });
