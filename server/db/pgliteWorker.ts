// Runs PGlite on its own thread: its WASM blocks whatever thread calls it, and the broker's
// event loop must keep answering devices while the database works.
import { parentPort, workerData } from 'node:worker_threads';
import { PGlite, types, type Transaction } from '@electric-sql/pglite';
import type { PgliteWasm } from './pgliteClient.ts';
import type { WorkerReply, WorkerRequest } from './pgliteProtocol.ts';

// The same parsers drizzle's PGlite session passes: timestamps and intervals stay strings
// and drizzle maps them. Functions cannot cross threads, so the worker applies them itself.
const keepText = (value: string) => value;
const parsers = Object.fromEntries(
  [types.TIMESTAMP, types.TIMESTAMPTZ, types.INTERVAL, types.DATE, 1231, 1115, 1185, 1187, 1182].map((t) => [t, keepText]),
);

const port = parentPort!;
const { dataDir, wasm } = workerData as { dataDir: string | undefined; wasm: PgliteWasm };
const pg = await PGlite.create({ ...(dataDir ? { dataDir } : {}), ...wasm });

interface OpenTx {
  tx: Transaction;
  finish: (commit: boolean) => void;
  /** Resolves to the error COMMIT or ROLLBACK raised, if any. */
  settled: Promise<unknown>;
}
const openTxs = new Map<number, OpenTx>();
let nextTxId = 1;

const reply = (msg: WorkerReply) => port.postMessage(msg);

function errorOf(err: unknown) {
  const e = err as { message?: string; code?: string; constraint?: string; detail?: string };
  return { message: e.message ?? String(err), code: e.code, constraint: e.constraint, detail: e.detail };
}

async function handle(req: WorkerRequest): Promise<void> {
  switch (req.op) {
    case 'query': {
      const target = req.txId ? openTxs.get(req.txId)?.tx : pg;
      if (!target) throw new Error(`transaction ${req.txId} is not open`);
      const result = await target.query(req.sql, req.params, { rowMode: req.rowMode, parsers });
      reply({ id: req.id, ok: true, result: { rows: result.rows, affectedRows: result.affectedRows, fields: result.fields } });
      return;
    }
    case 'begin': {
      const txId = nextTxId++;
      let finish!: (commit: boolean) => void;
      const decided = new Promise<boolean>((resolve) => (finish = resolve));
      let opened!: (tx: Transaction) => void;
      const txReady = new Promise<Transaction>((resolve) => (opened = resolve));
      const settled = pg
        .transaction(async (tx) => {
          opened(tx);
          if (!(await decided)) await tx.rollback();
        })
        .then(
          () => undefined,
          (err: unknown) => err,
        );
      openTxs.set(txId, { tx: await txReady, finish, settled });
      reply({ id: req.id, ok: true, result: { txId } });
      return;
    }
    case 'end': {
      const open = openTxs.get(req.txId);
      if (!open) throw new Error(`transaction ${req.txId} is not open`);
      open.finish(req.commit);
      // Answer only once COMMIT/ROLLBACK is done, so the caller's next statement sees it.
      const failure = await open.settled;
      openTxs.delete(req.txId);
      if (failure && req.commit) throw failure;
      reply({ id: req.id, ok: true, result: null });
      return;
    }
    case 'close': {
      await pg.close();
      reply({ id: req.id, ok: true, result: null });
      return;
    }
  }
}

port.on('message', (req: WorkerRequest) => {
  handle(req).catch((err: unknown) => reply({ id: req.id, ok: false, error: errorOf(err) }));
});
port.postMessage({ ready: true });
