// Two real servers (CLUSTER=true) in this process over one scratch PostgreSQL database, one Redis
// and one queue prefix: the in-process cluster tests' pair. They hold the same pepper (device
// secrets and tokens verify on both), binding key and key vault master key, as every instance of
// a cluster is given.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createScratchPostgres } from '../../helpers/databases.ts';
import { startTestServer, type TestServer } from '../../helpers/testServer.ts';

export interface InProcessPair {
  a: TestServer;
  b: TestServer;
  /** Stops both servers, then drops the database. */
  stop(): Promise<void>;
}

/** `ids` are the two servers' INSTANCE_IDs. */
export async function startInProcessPair(postgresUrl: string, ids: [string, string]): Promise<InProcessPair> {
  const scratch = await createScratchPostgres(postgresUrl);
  const sharedDir = mkdtempSync(join(tmpdir(), 'posfleet-shared-'));
  const shared = {
    DATABASE_URL: scratch.url,
    CLUSTER: 'true',
    SHARED_DIR: sharedDir,
    QUEUE_PREFIX: `test-${randomBytes(6).toString('hex')}`,
    SECRET_PEPPER: randomBytes(32).toString('hex'),
    BINDING_SIGNING_KEY: generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    KEY_VAULT_MASTER_KEY: randomBytes(32).toString('hex'),
  };
  const started: TestServer[] = [];
  const stop = async () => {
    for (const t of started.reverse()) await t.stop();
    await scratch.drop();
    rmSync(sharedDir, { recursive: true, force: true });
  };
  try {
    for (const id of ids) started.push(await startTestServer({ env: { ...shared, INSTANCE_ID: id } }));
  } catch (err) {
    await stop().catch(() => undefined);
    throw err;
  }
  const [a, b] = started;
  if (!a || !b) throw new Error('two servers expected');
  return { a, b, stop };
}
