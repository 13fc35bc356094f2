// `npm run agent -- …`: one terminal agent. With no device drivers on a workstation it runs on
// the simulated hardware, seeded by the serial so the same serial behaves the same every run.
import { createAgent } from './agent.ts';
import { agentUsage, parseAgentArgs, type AgentCliOptions } from './cliArgs.ts';
import { cliProcess } from './cliProcess.ts';
import { EnrollError, ensureEnrolled } from './enroll.ts';
import { createAgentLogger } from './log.ts';
import { seedFrom } from './random.ts';
import { createSimulatedHardware } from './simulatedHardware.ts';
import { openStateStore, StateFileError } from './stateStore.ts';

const cli = cliProcess('agent');
const { fail } = cli;

async function main(opts: AgentCliOptions): Promise<void> {
  const log = createAgentLogger();
  const ca = opts.ca ? cli.readCa(opts.ca) : undefined;
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

  cli.onStopSignals((signal) => {
    log.info({ signal }, 'shutting down');
    agent.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err }, 'unclean shutdown');
        process.exit(1);
      },
    );
  });
  await agent.start();
}

main(cli.args(parseAgentArgs, agentUsage)).catch((err: unknown) => {
  if (err instanceof EnrollError || err instanceof StateFileError) fail(err.message);
  fail((err as Error).stack ?? String(err));
});
