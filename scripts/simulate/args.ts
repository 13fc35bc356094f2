// Flag parsing for `npm run simulate`, pure so bad flags are tested without starting anything.
import { parseStringFlags, positiveInt, UsageError } from '../../agent/cliArgs.ts';
import { defaultFaults, parseFaults, type FaultFractions } from './faults.ts';
import { paymentPatterns, type PaymentTraffic } from '../../agent/simulatedPayments.ts';

export { UsageError };

export const simulateUsage = `usage: npm run simulate -- --server URL --devices N --enroll-token T --admin-token A
       [--procs K]               worker processes (default 1)
       [--prefix SIM] [--model PAX-A920] [--health-interval-s 10]
       [--duration-s S]          stop after S seconds (default: until Ctrl-C)
       [--faults battery=0.05,paper=0.05,reader=0.05,tamper=0.01,flap=0.05,slow-acks=0.1,garbage=0.01 | none]
                                 firmware OTA faults too: ota-cut, ota-corrupt, ota-tamper, ota-powerloss,
                                 ota-selftest, ota-offline, ota-silent, ota-busy (e.g. ota-selftest=0.1)
       [--state-dir DIR]         per-device state under DIR/<serial> (default ./agent-state)
       [--mqtt-url URL] [--ca FILE] [--concurrency 50] [--seed 1] [--time-scale 1]
       [--payments none|steady|burst|cashout]  simulated payment traffic on bound terminals (default none)
       [--txn-interval-s 60] [--txn-amount-minor 2500]  mean gap between payments, mean amount
       [--merchant MERCHANT_ID]  bind every terminal to this active merchant (TIDs S0000001…)`;

export interface SimulateArgs {
  server: string;
  devices: number;
  procs: number;
  enrollToken: string;
  adminToken: string;
  prefix: string;
  model: string;
  healthIntervalS: number;
  durationS?: number;
  faults: FaultFractions;
  stateDir: string;
  mqttUrl?: string;
  caFile?: string;
  concurrency: number;
  seed: number;
  timeScale: number;
  payments?: PaymentTraffic;
  bindMerchantId?: string;
}

export function parseSimulateArgs(argv: string[]): SimulateArgs {
  const values = parseStringFlags(
    argv,
    [
      'server',
      'devices',
      'procs',
      'enroll-token',
      'admin-token',
      'prefix',
      'model',
      'health-interval-s',
      'duration-s',
      'faults',
      'state-dir',
      'mqtt-url',
      'ca',
      'concurrency',
      'seed',
      'time-scale',
      'payments',
      'txn-interval-s',
      'txn-amount-minor',
      'merchant',
    ],
    ['server', 'devices', 'enroll-token', 'admin-token'],
  );
  try {
    const u = new URL(values.server!);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error();
  } catch {
    throw new UsageError(`--server: "${values.server}" is not an http(s) URL`);
  }
  const prefix = values.prefix ?? 'SIM';
  if (!/^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$/.test(prefix)) throw new UsageError(`--prefix: "${prefix}" must be letters, digits, '_' or '-'`);
  let faults: FaultFractions;
  try {
    faults = values.faults === undefined ? defaultFaults : parseFaults(values.faults);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const timeScale = Number(values['time-scale'] ?? 1);
  if (!Number.isFinite(timeScale) || timeScale <= 0)
    throw new UsageError(`--time-scale: expected a positive number, got "${values['time-scale']}"`);
  const pattern = values.payments ?? 'none';
  if (pattern !== 'none' && !(paymentPatterns as readonly string[]).includes(pattern)) {
    throw new UsageError(`--payments: "${pattern}" must be none, ${paymentPatterns.join(', ')}`);
  }
  const payments: PaymentTraffic | undefined =
    pattern === 'none'
      ? undefined
      : {
          pattern: pattern as PaymentTraffic['pattern'],
          meanIntervalS: positiveInt('--txn-interval-s', values['txn-interval-s'], 60),
          meanAmountMinor: positiveInt('--txn-amount-minor', values['txn-amount-minor'], 2500),
        };
  return {
    ...(payments ? { payments } : {}),
    ...(values.merchant ? { bindMerchantId: values.merchant } : {}),
    server: values.server!,
    devices: positiveInt('--devices', values.devices, 1),
    procs: positiveInt('--procs', values.procs, 1),
    enrollToken: values['enroll-token']!,
    adminToken: values['admin-token']!,
    prefix,
    model: values.model ?? 'PAX-A920',
    healthIntervalS: positiveInt('--health-interval-s', values['health-interval-s'], 10),
    ...(values['duration-s'] ? { durationS: positiveInt('--duration-s', values['duration-s'], 0) } : {}),
    faults,
    stateDir: values['state-dir'] ?? 'agent-state',
    ...(values['mqtt-url'] ? { mqttUrl: values['mqtt-url'] } : {}),
    ...(values.ca ? { caFile: values.ca } : {}),
    concurrency: positiveInt('--concurrency', values.concurrency, 50),
    seed: positiveInt('--seed', values.seed, 1),
    timeScale,
  };
}
