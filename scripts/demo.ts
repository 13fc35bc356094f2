// `npm run demo`: the server on embedded defaults plus a small simulated fleet with a few
// injected faults, so a first look shows terminals connecting, reporting and misbehaving.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer as createNetServer } from 'node:net';
import { join, resolve } from 'node:path';
import type { AuthService } from '../server/auth/authService.ts';
import { loadConfigOrExit, startOrExit } from '../server/startup.ts';
import { createLogger } from '../server/log.ts';
import { runFleet } from './simulate/fleet.ts';

const DEMO_DEVICES = Number(process.env.DEMO_DEVICES ?? 50);

/** A demo operator whose token is kept in DATA_DIR, so later demo runs reuse it. */
async function demoOperatorToken(auth: AuthService, dataDir: string): Promise<string> {
  const file = join(dataDir, 'demo-operator.token');
  if (existsSync(file)) {
    const token = readFileSync(file, 'utf8').trim();
    if (await auth.authenticate(token)) return token;
  }
  const { token } = await auth.createUser({ name: 'demo-operator', role: 'operator' }, { userId: 'system', name: 'demo', role: 'admin' });
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  return token;
}

function portFree(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createNetServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, host, () => probe.close(() => resolve(true)));
  });
}

/** A first look should not fail because another broker holds 1883: take free ports instead. */
async function freeDefaultPorts() {
  const host = process.env.HOST ?? '127.0.0.1';
  for (const [name, port] of [['HTTP_PORT', 8080], ['MQTT_PORT', 1883]] as const) {
    if (process.env[name] === undefined && !(await portFree(port, host))) {
      process.stdout.write(`port ${port} is taken; the demo uses a free port for ${name}\n`);
      process.env[name] = '0';
    }
  }
}

async function main() {
  await freeDefaultPorts();
  const config = loadConfigOrExit();
  const log = createLogger(config.LOG_LEVEL === 'info' ? 'warn' : config.LOG_LEVEL);
  const { server, started } = await startOrExit(config, log);
  // The demo needs an operator token to register its terminals: the printed one on a first
  // start, ADMIN_TOKEN if given, else a fresh one for a dedicated demo user.
  const adminToken = started.adminToken ?? config.ADMIN_TOKEN ?? (await demoOperatorToken(server.parts.auth, resolve(config.DATA_DIR)));

  process.stdout.write(
    [
      'posfleet demo',
      `  HTTP API   ${started.httpUrl}   docs: ${started.httpUrl}/docs`,
      `  MQTT       ${started.mqttUrl ?? '(TLS only)'}`,
      started.adminToken ? `  admin token (shown once, keep it): ${started.adminToken}` : '  admin token: the one printed at the first start (or ADMIN_TOKEN)',
      `  try:  curl -H "Authorization: Bearer ${started.adminToken ?? '<token>'}" ${started.httpUrl}/v1/fleet/summary`,
      `  starting ${DEMO_DEVICES} simulated terminals (battery, paper, reader, tamper, flapping links, garbage)...`,
      '',
    ].join('\n'),
  );

  const fleet = await runFleet({
    server: started.httpUrl,
    devices: DEMO_DEVICES,
    enrollToken: started.enrollToken,
    adminToken,
    prefix: 'DEMO',
    healthIntervalS: 10,
    stateDir: join(resolve(config.DATA_DIR), 'demo-agents'),
    faults: { battery: 0.06, paper: 0.06, reader: 0.04, tamper: 0.02, flap: 0.06, 'slow-acks': 0.1, garbage: 0.04 },
    log: createLogger('warn'),
  });
  await fleet.ready;
  const p = fleet.progress();
  process.stdout.write(`fleet running: ${JSON.stringify(p)}\nCtrl-C stops the fleet and the server.\n`);

  let stopping = false;
  const stop = async () => {
    if (stopping) process.exit(1);
    stopping = true;
    const summary = await fleet.stop();
    process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
    await server.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
}

main().catch((err: unknown) => {
  process.stderr.write(`demo failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
