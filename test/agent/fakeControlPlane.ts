// A stand-in for the posfleet server's device-facing surface (CSV import, enrollment) plus a real
// aedes broker that checks the issued credentials: enough to run agents and the simulated fleet
// without a database or Redis. The real server is exercised by the lead's end-to-end test.
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import net from 'node:net';
import { Aedes } from 'aedes';

export interface FakeControlPlane {
  httpUrl: string;
  mqttUrl: string;
  broker: Aedes;
  adminToken: string;
  enrollToken: string;
  registered: Map<string, { model: string; deviceId?: string; secret?: string }>;
  enrollCalls: number;
  /** Forgets every device, as a server whose data dir was wiped. */
  wipe(): void;
  close(): Promise<void>;
}

const body = (req: IncomingMessage) =>
  new Promise<string>((resolve) => {
    let s = '';
    req.on('data', (c: Buffer) => (s += c.toString()));
    req.on('end', () => resolve(s));
  });

export async function startFakeControlPlane(): Promise<FakeControlPlane> {
  const registered: FakeControlPlane['registered'] = new Map();
  const secrets = new Map<string, string>();
  const broker = await Aedes.createBroker({
    authenticate: (_c, username, password, done) => {
      const ok = username !== undefined && secrets.get(username) === password?.toString();
      if (ok) return done(null, true);
      done(Object.assign(new Error('bad user name or password'), { returnCode: 4 }), false);
    },
  });
  const mqtt = net.createServer(broker.handle);
  const sockets = new Set<net.Socket>();
  mqtt.on('connection', (s) => (sockets.add(s), s.on('close', () => sockets.delete(s))));
  await new Promise<void>((r) => mqtt.listen(0, '127.0.0.1', () => r()));
  const mqttUrl = `mqtt://127.0.0.1:${(mqtt.address() as net.AddressInfo).port}`;

  const cp = {
    adminToken: 'admin-token',
    enrollToken: 'enroll-token',
    registered,
    enrollCalls: 0,
  } as Pick<FakeControlPlane, 'adminToken' | 'enrollToken' | 'registered' | 'enrollCalls'>;

  const http: Server = createServer(async (req, res) => {
    const send = (status: number, json: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(json));
    };
    const text = await body(req);
    if (req.method === 'POST' && req.url === '/v1/devices/import') {
      if (req.headers.authorization !== `Bearer ${cp.adminToken}`) return send(401, { error: { code: 'unauthorized', message: 'no' } });
      const skipped: Array<{ line: number; serial: string; reason: string }> = [];
      let created = 0;
      text
        .trim()
        .split('\n')
        .slice(1)
        .forEach((row, i) => {
          const [serial, model] = row.split(',') as [string, string];
          if (registered.has(serial)) skipped.push({ line: i + 2, serial, reason: 'already_registered' });
          else (registered.set(serial, { model }), created++);
        });
      return send(200, { created, skipped, errors: [] });
    }
    if (req.method === 'POST' && req.url === '/v1/enroll') {
      cp.enrollCalls++;
      const b = JSON.parse(text) as { serial: string; enrollToken: string; kekPublicKey: string };
      if (b.enrollToken !== cp.enrollToken) return send(401, { error: { code: 'bad_enroll_token', message: 'wrong enrollment token' } });
      if (Buffer.from(b.kekPublicKey, 'base64').length !== 32) return send(400, { error: { code: 'bad_request', message: 'kek' } });
      const dev = registered.get(b.serial);
      if (!dev) return send(403, { error: { code: 'not_registered', message: `serial ${b.serial} is not registered` } });
      if (dev.deviceId) return send(409, { error: { code: 'already_enrolled', message: 'already enrolled' } });
      dev.deviceId = `dev_${randomBytes(6).toString('hex')}`;
      dev.secret = randomBytes(32).toString('base64url');
      secrets.set(dev.deviceId, dev.secret);
      return send(201, {
        deviceId: dev.deviceId,
        mqtt: { url: mqttUrl, username: dev.deviceId, password: dev.secret },
        trust: { firmwarePublishers: [], bindingKey: 'k' },
      });
    }
    send(404, { error: { code: 'not_found', message: req.url ?? '' } });
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', () => r()));
  const httpUrl = `http://127.0.0.1:${(http.address() as net.AddressInfo).port}`;

  return Object.assign(cp, {
    httpUrl,
    mqttUrl,
    broker,
    wipe() {
      registered.clear();
      secrets.clear();
    },
    async close() {
      const closed = new Promise<void>((r) => http.close(() => r()));
      http.closeAllConnections();
      await closed;
      await new Promise<void>((r) => {
        mqtt.close(() => r());
        for (const s of sockets) s.destroy();
      });
      await new Promise<void>((r) => broker.close(() => r()));
    },
  });
}
