// The main-thread face of the PGlite worker: the `query`/`transaction` surface drizzle's
// PGlite driver calls, forwarded over a MessagePort.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { QueryResult, WorkerError, WorkerReply, WorkerRequest } from './pgliteProtocol.ts';

type RequestBody = WorkerRequest extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never;

/** An error raised inside PGlite, with the SQLSTATE and constraint that node-postgres would give. */
export class PgliteError extends Error {
  readonly code?: string;
  readonly constraint?: string;
  readonly detail?: string;
  constructor(e: WorkerError) {
    super(e.message);
    this.name = 'PgliteError';
    this.code = e.code;
    this.constraint = e.constraint;
    this.detail = e.detail;
  }
}

interface QueryOptions {
  rowMode?: 'array' | 'object';
}

export interface PgliteQueryable {
  query(sql: string, params?: unknown[], options?: QueryOptions): Promise<QueryResult>;
}

export interface PgliteWorkerClient extends PgliteQueryable {
  transaction<T>(fn: (tx: PgliteQueryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** PGlite's WASM modules, compiled (they cross to a worker thread as they are). */
export interface PgliteWasm {
  pgliteWasmModule: WebAssembly.Module;
  initdbWasmModule: WebAssembly.Module;
}

// Compiled once per process and handed to every PGlite worker it starts: a worker compiling
// PGlite's 9 MB itself cost a few tenths of a CPU second each time, and a test run starts
// hundreds of servers in a few processes. The modules are immutable code, not state.
let compiledWasm: Promise<PgliteWasm> | undefined;
export function compiledPgliteWasm(): Promise<PgliteWasm> {
  compiledWasm ??= (async () => {
    const dist = dirname(createRequire(import.meta.url).resolve('@electric-sql/pglite'));
    const [pglite, initdb] = await Promise.all(['pglite.wasm', 'initdb.wasm'].map((f) => readFile(join(dist, f))));
    const [pgliteWasmModule, initdbWasmModule] = await Promise.all([WebAssembly.compile(pglite!), WebAssembly.compile(initdb!)]);
    return { pgliteWasmModule: pgliteWasmModule!, initdbWasmModule: initdbWasmModule! };
  })();
  return compiledWasm;
}

export async function startPgliteWorker(dataDir: string | undefined): Promise<PgliteWorkerClient> {
  // The worker is TypeScript: a small bootstrap registers tsx in the new thread first, since
  // loader hooks of the parent thread do not reach workers on every runner (vitest, node).
  const entry = new URL('./pgliteWorker.ts', import.meta.url).href;
  const bootstrap = `import('tsx/esm/api').then((m) => m.register()).then(() => import(${JSON.stringify(entry)}))`;
  const worker = new Worker(bootstrap, { eval: true, workerData: { dataDir, wasm: await compiledPgliteWasm() } });
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let nextId = 1;
  let closed = false;

  await new Promise<void>((resolve, reject) => {
    const onMessage = (msg: { ready?: boolean }) => {
      if (msg.ready) {
        worker.off('error', reject);
        resolve();
      }
    };
    worker.once('message', onMessage);
    worker.once('error', reject);
  });

  worker.on('message', (msg: WorkerReply) => {
    const waiter = pending.get(msg.id);
    if (!waiter) return;
    pending.delete(msg.id);
    if (msg.ok) waiter.resolve(msg.result);
    else waiter.reject(new PgliteError(msg.error));
  });
  worker.on('error', (err) => {
    for (const w of pending.values()) w.reject(err);
    pending.clear();
  });

  const call = <T>(body: RequestBody): Promise<T> => {
    if (closed) return Promise.reject(new Error('database is closed'));
    const id = nextId++;
    return new Promise<T>((resolve, reject) => {
      pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      worker.postMessage({ ...body, id });
    });
  };

  const queryOn =
    (txId?: number) =>
    (sql: string, params: unknown[] = [], options: QueryOptions = {}) =>
      call<QueryResult>({ op: 'query', sql, params, rowMode: options.rowMode ?? 'object', txId });

  return {
    query: queryOn(),
    async transaction<T>(fn: (tx: PgliteQueryable) => Promise<T>): Promise<T> {
      const { txId } = await call<{ txId: number }>({ op: 'begin' });
      let result: T;
      try {
        result = await fn({ query: queryOn(txId) });
      } catch (err) {
        await call({ op: 'end', txId, commit: false });
        throw err;
      }
      await call({ op: 'end', txId, commit: true });
      return result;
    },
    async close() {
      if (closed) return;
      await call({ op: 'close' });
      closed = true;
      await worker.terminate();
    },
  };
}
