// `npm run agent -- …`: one terminal agent. With no device drivers on a workstation it runs on
// the simulated hardware, seeded by the serial so the same serial behaves the same every run.
import { readFileSync } from 'node:fs';
import { createAgent } from './agent.ts';
import { agentUsage, parseAgentArgs, UsageError, type AgentCliOptions } from './cliArgs.ts';
import { EnrollError, ensureEnrolled } from './enroll.ts';
import { createAgentLogger } from './log.ts';
import { seedFrom } from './random.ts';
import { createSimulatedHardware } from './simulatedHardware.ts';
import { openStateStore, StateFileError } from './stateStore.ts';

function fail(message: string, code = 1): never {
  process.stderr.write(`agent: ${message}\n`);
  process.exit(code);
}

function readCa(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    return fail(`--ca: cannot read ${path}: ${(err as Error).message}`, 2);
  }
}

async function main(opts: AgentCliOptions): Promise<void> {
  const log = createAgentLogger();
  const ca = opts.ca ? readCa(opts.ca) : undefined;
  const store = openStateStore(opts.stateDir);
  const firmware = store.loadFirmware(opts.fwVersion);
  const existing = store.loadEnrollment();
  if (existing && existing.serial !== opts.serial) {
    fail(`${opts.stateDir} holds the credentials of serial ${existing.serial}, not ${opts.serial}; use another --state-dir`);
  }
  if (!existing && !opts.enrollToken) fail('--enroll-token is required for the first run (no credentials in the state dir)', 2);
  const { enrollment, fresh } = await ensureEnrolled(store, {
    server: opts.server,
    serial: opts.serial,
    model: opts.model,
    fwVersion: firmware[firmware.active].version,
    enrollToken: opts.enrollToken ?? '',
    ...(ca ? { ca } : {}),
  });
  log.info({ deviceId: enrollment.deviceId, fresh, stateDir: opts.stateDir }, fresh ? 'enrolled' : 'using stored credentials');

  const agent = createAgent({
    store,
    hardware: createSimulatedHardware({ seed: seedFrom(opts.serial) }),
    enrollment,
    ...(opts.mqttUrl ? { mqttUrl: opts.mqttUrl } : {}),
    ...(ca ? { ca } : {}),
    fwVersion: opts.fwVersion,
    healthIntervalS: opts.healthIntervalS,
    log,
    observer: {
      refused: (code) =>
        log.error(
          { code },
          code === 4 || code === 5
            ? 'broker refused our credentials; if the device was reset or revoked, re-enroll with a fresh --state-dir'
            : 'broker refused the connection',
        ),
    },
  });

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) process.exit(130); // a second Ctrl-C means now
    stopping = true;
    log.info({ signal }, 'shutting down');
    agent.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err }, 'unclean shutdown');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  await agent.start();
}

let opts: AgentCliOptions;
try {
  opts = parseAgentArgs(process.argv.slice(2));
} catch (err) {
  if (err instanceof UsageError) fail(`${err.message}\n${agentUsage}`, 2);
  throw err;
}
main(opts).catch((err: unknown) => {
  if (err instanceof EnrollError || err instanceof StateFileError) fail(err.message);
  fail((err as Error).stack ?? String(err));
});
