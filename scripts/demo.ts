// `npm run demo`: the server on embedded defaults plus a small simulated fleet with a few
// injected faults, so a first look shows terminals connecting, reporting and misbehaving, then
// two agents with their own merchants and terminals, a parameter template and a payment-app update.
// Ports, the operator token and a firmware publisher key are kept in DATA_DIR, so a second run
// brings the same fleet back online and `npm run demo:rollout` can update it.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ROOT_ORG_ID, ROOT_ORG_PATH } from '../schemas/db.ts';
import type { AuthService } from '../server/auth/authService.ts';
import { loadConfigOrExit, startOrExit } from '../server/startup.ts';
import { createLogger } from '../server/log.ts';
import { runFleet } from './simulate/fleet.ts';
import { ApiError } from '../client/apiClient.ts';
import { agentsReport, appReport } from './demo/agentsReport.ts';
import { publishDemoApp } from './demo/app.ts';
import { seedDemoAgents } from './demo/agents.ts';
import { demoBanner } from './demo/banner.ts';
import { fleetReport, waitForFleet } from './demo/fleetWait.ts';
import { choosePorts, portToMove, saveDemoState } from './demo/ports.ts';
import { loadOrCreateDemoPublisher, withDemoPublisher } from './demo/publisher.ts';

const DEMO_DEVICES = Number(process.env.DEMO_DEVICES ?? 50);
/** Each terminal enrolls and connects within 30 s or is counted as not connected (scripts/simulate/fleet.ts). */
const FLEET_WAIT_MS = 45_000;

export const demoOperatorTokenFile = (dataDir: string) => join(dataDir, 'demo-operator.token');

/** A demo user of the root node whose token is kept in DATA_DIR, so later demo runs and demo:rollout reuse it. */
async function demoUserToken(auth: AuthService, file: string, name: string, role: 'operator' | 'admin'): Promise<string> {
  if (existsSync(file)) {
    const token = readFileSync(file, 'utf8').trim();
    if (await auth.authenticate(token)) return token;
  }
  const { token } = await auth.createUser(
    { name, role },
    { userId: 'system', name: 'demo', role: 'admin', orgId: ROOT_ORG_ID, orgPath: ROOT_ORG_PATH },
  );
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  return token;
}

/** A demo step that fails is told on stderr and skipped: the fleet and the server stay up. */
const failed =
  (what: string) =>
  (err: unknown): undefined => {
    const why =
      err instanceof ApiError
        ? `${err.code}: ${err.message} ${JSON.stringify(err.details ?? '')}`
        : err instanceof Error
          ? err.message
          : String(err);
    process.stderr.write(`demo: ${what}: ${why}\n`);
    return undefined;
  };

async function main() {
  const first = loadConfigOrExit();
  const dataDir = resolve(first.DATA_DIR);
  mkdirSync(dataDir, { recursive: true });
  const publisher = loadOrCreateDemoPublisher(dataDir);
  process.env.FIRMWARE_PUBLISHER_KEYS = withDemoPublisher(first.FIRMWARE_PUBLISHER_KEYS, publisher.publicKeyBase64);
  const { notes, picked } = await choosePorts(dataDir, first.HOST);
  const config = loadConfigOrExit();
  const log = createLogger(config.LOG_LEVEL === 'info' ? 'warn' : config.LOG_LEVEL);
  const { server, started } = await startOrExit(config, log, (taken) => {
    const name = portToMove(picked, taken);
    if (!name) return undefined;
    delete picked[name];
    notes.push(`port ${taken} was taken as the demo started; it uses a free port for ${name}`);
    process.env[name] = '0';
    return loadConfigOrExit();
  });
  const operatorToken = await demoUserToken(server.parts.auth, demoOperatorTokenFile(dataDir), 'demo-operator', 'operator');
  // The acquirer's reviewer: it creates the agents' nodes and users and approves their merchants.
  const adminToken = await demoUserToken(server.parts.auth, join(dataDir, 'demo-admin.token'), 'demo-admin', 'admin');
  saveDemoState(dataDir, {
    ports: { HTTP_PORT: started.httpPort, ...(started.mqttPort ? { MQTT_PORT: started.mqttPort } : {}) },
    httpUrl: started.httpUrl,
    mqttUrl: started.mqttUrl,
  });

  process.stdout.write(
    demoBanner({
      httpUrl: started.httpUrl,
      mqttUrl: started.mqttUrl,
      dataDir,
      ...(started.adminToken ? { adminToken: started.adminToken } : {}),
      operatorTokenFile: demoOperatorTokenFile(dataDir),
      enrollToken: started.enrollToken,
      publisherKeyFile: publisher.keyFile,
      devices: DEMO_DEVICES,
      notes,
    }),
  );

  // This run's broker first: terminals enrolled on a port that is taken now still come online,
  // and the server then hands them its address list (trust.set) so they keep it.
  const fleet = await runFleet({
    server: started.httpUrl,
    devices: DEMO_DEVICES,
    enrollToken: started.enrollToken,
    adminToken: operatorToken,
    prefix: 'DEMO',
    healthIntervalS: 10,
    stateDir: join(dataDir, 'demo-agents'),
    mqttUrl: started.mqttUrl,
    faults: { battery: 0.06, paper: 0.06, reader: 0.04, tamper: 0.02, flap: 0.06, 'slow-acks': 0.1, garbage: 0.04 },
    log: createLogger('warn'),
  });

  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) process.exit(1);
    stopping = true;
    const summary = await fleet.stop();
    process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
    await server.stop();
    process.exit(code);
  };
  process.on('SIGINT', () => void stop(0));
  process.on('SIGTERM', () => void stop(0));

  await fleet.ready;
  const report = fleetReport(await waitForFleet(fleet.progress, FLEET_WAIT_MS), fleet.summary().failures, started.mqttUrl);
  if (!report.ok) {
    process.stderr.write(`demo: ${report.line}\n`);
    return stop(1);
  }
  process.stdout.write(`${report.line}\n`);
  const seeded = await seedDemoAgents({ baseUrl: started.httpUrl, adminToken, dataDir, fleet: DEMO_DEVICES }).catch(
    failed('the agents could not be laid out'),
  );
  if (seeded) process.stdout.write(agentsReport(seeded));
  const north = seeded?.agents[0];
  const app = north
    ? await publishDemoApp({
        baseUrl: started.httpUrl,
        publisherToken: operatorToken,
        publisherKeyFile: publisher.keyFile,
        agent: north,
      }).catch(failed('the payment app could not be deployed'))
    : undefined;
  if (app) process.stdout.write(appReport(app, { httpUrl: started.httpUrl, operatorTokenFile: demoOperatorTokenFile(dataDir) }));
  process.stdout.write('Ctrl-C stops the fleet and the server.\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`demo failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
