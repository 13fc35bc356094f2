// Debian's mosquitto_pub / mosquitto_sub act as a third-party device against our broker.
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topicFor } from '../../schemas/wire.ts';
import { registerAndEnroll, type EnrolledDevice } from '../helpers/devices.ts';
import { eventually } from '../helpers/eventually.ts';
import { startTestServer, type TestServer } from '../helpers/testServer.ts';

const run = promisify(execFile);

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

async function mosquitto(cmd: 'mosquitto_pub' | 'mosquitto_sub', args: string[]): Promise<Outcome> {
  try {
    const { stdout, stderr } = await run(cmd, args, { timeout: 10_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

describe('mosquitto clients against the posfleet broker', () => {
  let t: TestServer;
  let d: EnrolledDevice;
  let port: string;
  const as = (dev: EnrolledDevice, password = dev.password) => ['-h', '127.0.0.1', '-p', port, '-i', dev.deviceId, '-u', dev.deviceId, '-P', password, '-V', 'mqttv311'];

  beforeAll(async () => {
    t = await startTestServer();
    d = await registerAndEnroll(t);
    port = String(t.started.mqttPort);
  });
  afterAll(async () => {
    await t?.stop();
  });

  it('accepts a good publish and ingests it', async () => {
    const sample = JSON.stringify({ ts: Date.now(), seq: 1, battery: { level: 42, charging: false }, printer: { status: 'paper_low' } });
    const out = await mosquitto('mosquitto_pub', [...as(d), '-q', '1', '-t', topicFor(d.deviceId, 'health'), '-m', sample]);
    expect(out.code).toBe(0);
    expect(out.stderr).toBe('');
    await eventually(async () => {
      const r = await t.api<{ health: { battery?: { level: number } } | null }>('GET', `/v1/devices/${d.deviceId}`);
      return r.body.health?.battery?.level === 42;
    });
  });

  it('refuses a wrong password with "bad user name or password"', async () => {
    const out = await mosquitto('mosquitto_pub', [...as(d, 'wrong-password'), '-t', topicFor(d.deviceId, 'health'), '-m', '{}']);
    expect(out.code).not.toBe(0);
    expect(out.stderr.toLowerCase()).toMatch(/bad user ?name or password|not authori[sz]ed/);
  });

  it('refuses a subscription to another device or the whole fleet (SUBACK 128)', async () => {
    const other = await registerAndEnroll(t);
    for (const topic of [topicFor(other.deviceId, 'cmd'), 'fleet/v1/#']) {
      // -d prints the SUBACK's return code.
      const out = await mosquitto('mosquitto_sub', [...as(d), '-d', '-t', topic, '-C', '1', '-W', '2']);
      expect(out.stdout).toContain('received SUBACK');
      expect(out.stdout).toMatch(/Subscribed \(mid: \d+\): 128/);
      expect(out.stderr).toContain('denied');
    }
  });

  it('delivers a command to mosquitto_sub subscribed to its own cmd topic', async () => {
    const sub = spawn('mosquitto_sub', [...as(d), '-c', '-q', '1', '-t', topicFor(d.deviceId, 'cmd'), '-C', '1', '-W', '10']);
    let stdout = '';
    sub.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    const exited = new Promise<number | null>((resolve) => sub.on('exit', resolve));
    await eventually(async () => t.server.parts.broker()?.isConnected(d.deviceId));
    const res = await t.api<{ id: string }>('POST', `/v1/devices/${d.deviceId}/commands`, { type: 'diag.run' });
    expect(res.status).toBe(201);
    expect(await exited).toBe(0);
    const cmd = JSON.parse(stdout) as { id: string; type: string };
    expect(cmd).toMatchObject({ id: res.body.id, type: 'diag.run' });
  });
});
