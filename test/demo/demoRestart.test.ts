// A newcomer's second and third `npm run demo` on one DATA_DIR with 1883 taken: the whole demo
// fleet is online again, on the remembered ports, and also when a remembered port is taken
// (the terminals follow this run's broker and the server hands them its address).
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import type { Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enrollmentFile } from '../../agent/schemas.ts';
import { eventually } from '../helpers/eventually.ts';
import { demoEnv, demoStateIn, holdPort, killAll, release, startDemo, type DemoRun } from './demoProcess.ts';

const DEVICES = 5;

async function onlineCount(run: DemoRun): Promise<number> {
  const res = await run.api()<{ devices: number; online: number }>('GET', '/v1/fleet/summary');
  expect(res.status).toBe(200);
  expect(res.body.devices).toBe(DEVICES);
  return res.body.online;
}

const wholeFleetOnline = (run: DemoRun) =>
  eventually(async () => (await onlineCount(run)) === DEVICES, {
    timeoutMs: 30_000,
    stepMs: 500,
    what: `${DEVICES} demo terminals online`,
  });

// PGlite only, the demo's embedded default: what a restart must keep is read through the API, and
// the engines' storage is proven alike by test/db and the domain suites.
describe('demo restarts on one DATA_DIR [pglite]', () => {
  const children = new Set<ChildProcess>();
  const held: Array<Server | null> = [];
  let dataDir = '';
  let env: NodeJS.ProcessEnv = {};

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'pf-demo-restart-'));
    env = demoEnv(dataDir, undefined, DEVICES, { ports: 'demo' });
    // Mosquitto holds 1883 on a developer machine; a CI machine gets the same by this. 8080 is
    // held too, so the ports the first run remembers are free ones no other test asks for.
    held.push(await holdPort(1883), await holdPort(8080));
  }, 60_000);

  afterAll(async () => {
    await killAll(children);
    for (const s of held) await release(s);
    rmSync(dataDir, { recursive: true, force: true });
  }, 60_000);

  it('the second run brings the whole fleet online on the ports the first one chose', async () => {
    const first = await startDemo(env, children);
    expect(first.output()).toMatch(/port 1883 is taken; the demo uses a free port for MQTT_PORT/);
    expect(first.output()).toMatch(/port 8080 is taken; the demo uses a free port for HTTP_PORT/);
    expect(first.output()).toMatch(/admin token \(shown once, keep it\): pf_/);
    expect(first.output()).toContain(`fleet online: ${DEVICES} of ${DEVICES} terminals connected`);
    const ports = first.state().ports;
    expect(ports.MQTT_PORT).not.toBe(1883);
    expect(ports.HTTP_PORT).not.toBe(8080);
    await wholeFleetOnline(first);
    expect(await first.stop()).toBe(0);

    const second = await startDemo(env, children);
    expect(second.state().ports).toEqual(ports);
    expect(second.output()).toContain(`fleet online: ${DEVICES} of ${DEVICES} terminals connected`);
    // Later runs name where the operator token lives and the enrollment token, with the dashboard.
    expect(second.output()).toMatch(/admin token: the one printed at the first start/);
    expect(second.output()).toContain(`operator token (dashboard, API, scripts): in ${join(dataDir, 'demo-operator.token')}`);
    expect(second.output()).toContain(`dashboard  ${second.state().httpUrl}/ui/`);
    expect(second.output()).toContain(`: ${readFileSync(join(dataDir, 'enroll.token'), 'utf8').trim()}`);
    await wholeFleetOnline(second);
    expect(await second.stop()).toBe(0);
  }, 120_000);

  it('a run whose remembered MQTT port is taken still brings the whole fleet online, and the terminals keep the new address', async () => {
    const before = demoStateIn(dataDir);
    const remembered = before.ports.MQTT_PORT!;
    held.push(await holdPort(remembered));

    const third = await startDemo(env, children);
    expect(third.output()).toContain(`port ${remembered} (MQTT_PORT of the last demo run) is taken`);
    const moved = third.state();
    expect(moved.ports.MQTT_PORT).not.toBe(remembered);
    await wholeFleetOnline(third);
    // The server saw the old address in their state and sent its own (trust.set).
    const agentsDir = join(dataDir, 'demo-agents');
    await eventually(
      () =>
        readdirSync(agentsDir).every(
          (serial) =>
            enrollmentFile.parse(JSON.parse(readFileSync(join(agentsDir, serial, 'enrollment.json'), 'utf8'))).brokerUrls?.[0] ===
            moved.mqttUrl,
        ),
      { timeoutMs: 20_000, stepMs: 250, what: 'every demo terminal pinned the new broker URL' },
    );
    expect(await third.stop()).toBe(0);
  }, 120_000);
});
