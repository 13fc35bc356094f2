// The pinned CA (--ca): enrollment over HTTPS and MQTT over TLS trust exactly that CA.
import { execFileSync } from 'node:child_process';
import { createServer as createHttpsServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import { Aedes } from 'aedes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAgent } from '../../agent/agent.ts';
import { EnrollError, enroll } from '../../agent/enroll.ts';
import { createSimulatedHardware } from '../../agent/simulatedHardware.ts';
import { openStateStore } from '../../agent/stateStore.ts';
import { makeTestCertificates, type TestCertificates } from '../helpers/certificates.ts';
import { fakeEnrollment, silentLog, startConnectedAgent, tempDir } from './helpers.ts';

const hasOpenssl = (() => {
  try {
    execFileSync('openssl', ['version']);
    return true;
  } catch {
    return false;
  }
})();


describe.skipIf(!hasOpenssl)('pinned CA', () => {
  let pki: TestCertificates;
  let broker: Aedes;
  let mqtts: tls.Server;
  let https: Server;
  let mqttsUrl: string;
  let httpsUrl: string;

  beforeAll(async () => {
    pki = makeTestCertificates(tempDir());
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
    const agent = await startConnectedAgent({ store, hardware: createSimulatedHardware({ seed: 1 }), enrollment: fakeEnrollment('d1', mqttsUrl), ca: pki.ca });
    await agent.stop();
  });

  it('does not connect to a broker whose certificate the pinned CA did not sign', async () => {
    const other = makeTestCertificates(tempDir());
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
