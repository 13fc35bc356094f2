// The pinned CA (--ca): enrollment over HTTPS and MQTT over TLS trust exactly that CA.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer as createHttpsServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import tls from 'node:tls';
import { Aedes } from 'aedes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAgent } from '../../agent/agent.ts';
import { EnrollError, enroll } from '../../agent/enroll.ts';
import { createSimulatedHardware } from '../../agent/simulatedHardware.ts';
import { openStateStore } from '../../agent/stateStore.ts';
import { fakeEnrollment, silentLog, tempDir } from './helpers.ts';

const hasOpenssl = (() => {
  try {
    execFileSync('openssl', ['version']);
    return true;
  } catch {
    return false;
  }
})();

function makePki(dir: string) {
  const run = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  run('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=posfleet test CA');
  run('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'srv.key', '-out', 'srv.csr', '-subj', '/CN=127.0.0.1');
  writeFileSync(join(dir, 'ext.cnf'), 'subjectAltName=IP:127.0.0.1\n');
  run('x509', '-req', '-in', 'srv.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'srv.pem', '-days', '2', '-extfile', 'ext.cnf');
  const read = (f: string) => readFileSync(join(dir, f));
  return { ca: read('ca.pem'), cert: read('srv.pem'), key: read('srv.key') };
}

describe.skipIf(!hasOpenssl)('pinned CA', () => {
  let pki: ReturnType<typeof makePki>;
  let broker: Aedes;
  let mqtts: tls.Server;
  let https: Server;
  let mqttsUrl: string;
  let httpsUrl: string;

  beforeAll(async () => {
    pki = makePki(tempDir());
    broker = await Aedes.createBroker();
    mqtts = tls.createServer({ cert: pki.cert, key: pki.key }, broker.handle);
    await new Promise<void>((r) => mqtts.listen(0, '127.0.0.1', () => r()));
    mqttsUrl = `mqtts://127.0.0.1:${(mqtts.address() as AddressInfo).port}`;
    https = createHttpsServer({ cert: pki.cert, key: pki.key }, (_req, res) => {
      res.writeHead(201, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ deviceId: 'd1', mqtt: { url: mqttsUrl, username: 'd1', password: 'p' }, trust: { firmwarePublishers: [], bindingKey: 'k' } }));
    });
    await new Promise<void>((r) => https.listen(0, '127.0.0.1', () => r()));
    httpsUrl = `https://127.0.0.1:${(https.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    https.closeAllConnections();
    await new Promise<void>((r) => https.close(() => r()));
    await new Promise<void>((r) => mqtts.close(() => r()));
    await new Promise<void>((r) => broker.close(() => r()));
  });

  const req = (ca?: Buffer) => ({ server: httpsUrl, serial: 'S', model: 'M', fwVersion: '1.0.0', enrollToken: 't', ...(ca ? { ca } : {}) });

  it('enrolls over HTTPS with the pinned CA, and refuses without it', async () => {
    expect((await enroll(req(pki.ca), 'A'.repeat(44))).deviceId).toBe('d1');
    await expect(enroll(req(), 'A'.repeat(44))).rejects.toBeInstanceOf(EnrollError);
  });

  it('connects over MQTT/TLS with the pinned CA', async () => {
    const store = openStateStore(tempDir());
    const agent = createAgent({
      store,
      hardware: createSimulatedHardware({ seed: 1 }),
      enrollment: fakeEnrollment('d1', mqttsUrl),
      ca: pki.ca,
      log: silentLog,
    });
    await agent.start();
    await agent.waitConnected(5000);
    await agent.stop();
  });

  it('does not connect to a broker whose certificate the pinned CA did not sign', async () => {
    const other = makePki(tempDir());
    const agent = createAgent({
      store: openStateStore(tempDir()),
      hardware: createSimulatedHardware({ seed: 1 }),
      enrollment: fakeEnrollment('d2', mqttsUrl),
      ca: other.ca,
      backoff: { initialMs: 50, maxMs: 100, factor: 2 },
      log: silentLog,
    });
    await agent.start();
    await expect(agent.waitConnected(800)).rejects.toThrow(/not connected/);
    await agent.stop();
  });
});
