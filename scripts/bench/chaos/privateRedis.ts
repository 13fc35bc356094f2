// A redis-server of the case's own on a free port, keeping nothing on disk, that the case may stop
// and start again on the same port: the machine's shared Redis (6379) is never touched.
import { spawn, type ChildProcess } from 'node:child_process';
import { Redis } from 'ioredis';
import { freePort } from '../ports.ts';
import { terminate, track } from '../procs.ts';
import { pollUntil } from '../util.ts';

export interface PrivateRedis {
  readonly url: string;
  /** SIGTERM (no save: persistence is off); resolves once the process is gone. */
  stop(): Promise<void>;
  /** On the same port again, empty; resolves once it answers PING. */
  start(): Promise<void>;
}

async function answersPing(url: string): Promise<true | undefined> {
  const r = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 500 });
  r.on('error', () => {});
  try {
    await r.connect();
    return (await r.ping()) === 'PONG' ? true : undefined;
  } finally {
    r.disconnect();
  }
}

export async function startPrivateRedis(): Promise<PrivateRedis> {
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;
  const start = async () => {
    child = track(
      spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
        stdio: 'ignore',
        detached: true,
      }),
    );
    await pollUntil(() => answersPing(url), { everyMs: 50, timeoutMs: 10_000, what: `redis-server on ${port}` });
  };
  await start();
  return {
    url,
    start,
    async stop() {
      if (child) await terminate(child, 5000);
      child = undefined;
    },
  };
}
