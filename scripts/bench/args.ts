// Command line: --devices N, --instances K, --minutes M, --vault V, --quick, --scenario NAME, --skip-baseline, --out FILE, --keep.
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { defaultResultsFile } from './paths.ts';

export const benchVaults = ['software', 'pkcs11'] as const;
export type BenchVault = (typeof benchVaults)[number];

export interface CliOptions {
  devices: number;
  instances?: number;
  minutes?: number;
  /** Key vault of the `keys` scenario, run alone; undefined: software, then PKCS#11 beside it. */
  vault?: BenchVault;
  quick: boolean;
  scenario: string;
  skipBaseline: boolean;
  out: string;
  keepFiles: boolean;
  help: boolean;
}

export const usage = `usage: npm run bench -- [--devices N] [--instances K] [--minutes M] [--vault software|pkcs11] [--quick] [--scenario core] [--skip-baseline] [--out FILE] [--keep]
  --devices N       simulated terminals (default 10000; 300 with --quick)
  --instances K     server instances of the cluster scenario (default 3; 2 with --quick)
  --minutes M       length of the soak scenario's load (default 30; 3 with --quick)
  --vault V         key vault of the keys scenario, run alone (default: software, then PKCS#11 beside it when SoftHSM2 is installed)
  --quick           CI-sized run: few devices, short steps, under 2 minutes
  --scenario NAME   which scenario to run (default core)
  --skip-baseline   do not measure raw aedes (reuses the previous baseline if it had the same size)
  --out FILE        results file (default bench/results/latest.json); other scenarios' entries are kept
  --keep            keep the server's data dir and logs`;

export function parseCli(argv: readonly string[]): CliOptions {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      devices: { type: 'string' },
      instances: { type: 'string' },
      minutes: { type: 'string' },
      vault: { type: 'string' },
      quick: { type: 'boolean', default: false },
      scenario: { type: 'string', default: 'core' },
      'skip-baseline': { type: 'boolean', default: false },
      out: { type: 'string' },
      keep: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  const quick = values.quick ?? false;
  const devices = values.devices === undefined ? (quick ? 300 : 10_000) : Number(values.devices);
  if (!Number.isInteger(devices) || devices < 1 || devices > 50_000) {
    throw new Error(`--devices: expected an integer from 1 to 50000, got ${values.devices}`);
  }
  const instances = values.instances === undefined ? undefined : Number(values.instances);
  if (instances !== undefined && (!Number.isInteger(instances) || instances < 2 || instances > 8)) {
    throw new Error(`--instances: expected an integer from 2 to 8, got ${values.instances}`);
  }
  const minutes = values.minutes === undefined ? undefined : Number(values.minutes);
  if (minutes !== undefined && !(minutes >= 1 && minutes <= 120)) {
    throw new Error(`--minutes: expected a number from 1 to 120, got ${values.minutes}`);
  }
  const vault = benchVaults.find((v) => v === values.vault);
  if (values.vault !== undefined && !vault) throw new Error(`--vault: expected ${benchVaults.join(' or ')}, got ${values.vault}`);
  return {
    devices,
    ...(vault === undefined ? {} : { vault }),
    ...(instances === undefined ? {} : { instances }),
    ...(minutes === undefined ? {} : { minutes }),
    quick,
    scenario: values.scenario ?? 'core',
    skipBaseline: values['skip-baseline'] ?? false,
    out: values.out ? resolve(values.out) : defaultResultsFile,
    keepFiles: values.keep ?? false,
    help: values.help ?? false,
  };
}
