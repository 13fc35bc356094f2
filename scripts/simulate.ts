// `npm run simulate -- …`: a simulated fleet of terminals with injected faults (see
// scripts/simulate/). Runs until --duration-s or Ctrl-C, then prints a summary.
import { cliProcess } from '../agent/cliProcess.ts';
import { parseSimulateArgs, simulateUsage, type SimulateArgs } from './simulate/args.ts';
import { runFleet, type FleetOptions } from './simulate/fleet.ts';
import { runFleetProcs, type FleetRun } from './simulate/multiProc.ts';
import { startProgress } from './simulate/progress.ts';
import { RegistrationError } from './simulate/register.ts';
import { formatSummary } from './simulate/summary.ts';

const cli = cliProcess('simulate');
const { fail } = cli;

async function main(a: SimulateArgs): Promise<void> {
  const ca = a.caFile ? cli.readCa(a.caFile) : undefined;
  const options: FleetOptions = {
    server: a.server,
    devices: a.devices,
    enrollToken: a.enrollToken,
    adminToken: a.adminToken,
    prefix: a.prefix,
    model: a.model,
    healthIntervalS: a.healthIntervalS,
    faults: a.faults,
    stateDir: a.stateDir,
    seed: a.seed,
    concurrency: a.concurrency,
    timeScale: a.timeScale,
    ...(a.payments ? { payments: a.payments } : {}),
    ...(a.bindMerchantId ? { bindMerchantId: a.bindMerchantId } : {}),
    ...(a.mqttUrl ? { mqttUrl: a.mqttUrl } : {}),
    ...(ca ? { ca } : {}),
  };
  const started = Date.now();
  process.stderr.write(`simulate: registering ${a.devices} serials (${a.prefix}-…) at ${a.server}\n`);
  let run: FleetRun;
  try {
    run = a.procs > 1 ? await runFleetProcs(options, a.procs) : await runFleet(options);
  } catch (err) {
    if (err instanceof RegistrationError) fail(err.message);
    throw err;
  }
  const progress = startProgress(run.progress);

  let stopping = false;
  const finish = async (why: string) => {
    if (stopping) return;
    stopping = true;
    progress.stop();
    process.stderr.write(`simulate: ${why}, stopping ${a.devices} agents…\n`);
    const summary = await run.stop();
    process.stdout.write(`${formatSummary(summary, (Date.now() - started) / 1000)}\n`);
    process.exit(summary.failed > 0 && summary.failed === summary.total ? 1 : 0);
  };
  cli.onStopSignals((signal) => void finish(signal));
  if (a.durationS) setTimeout(() => void finish(`${a.durationS} s elapsed`), a.durationS * 1000);

  await run.ready;
  if (!stopping && !process.stderr.isTTY) process.stderr.write('simulate: all devices started\n');
}

main(cli.args(parseSimulateArgs, simulateUsage)).catch((err: unknown) => fail((err as Error).stack ?? String(err)));
