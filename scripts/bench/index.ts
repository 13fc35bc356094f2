// `npm run bench`: runs one scenario, merges its entry into the results file, prints a table.
import { parseCli, usage, type CliOptions } from './args.ts';
import { installCleanup, terminateAll } from './procs.ts';
import { startWatchdog } from './watchdog.ts';
import { writeScenario } from './results.ts';
import { scenarios } from './scenarios.ts';
import { renderTable } from './table.ts';

const defaultMaxMinutes = { quick: 5, full: 45 };

async function main(): Promise<number> {
  let cli: CliOptions;
  try {
    cli = parseCli(process.argv.slice(2));
  } catch (err) {
    console.error(`${err instanceof Error ? err.message : String(err)}\n${usage}`);
    return 2;
  }
  if (cli.help) {
    console.log(usage);
    return 0;
  }
  const scenario = scenarios[cli.scenario];
  if (!scenario) {
    console.error(`unknown scenario "${cli.scenario}"; known: ${Object.keys(scenarios).join(', ')}`);
    return 2;
  }
  installCleanup();
  // Hard stop for the whole run, whatever hangs.
  const max = scenario.maxMinutes ?? defaultMaxMinutes;
  const limitMs = (cli.quick ? max.quick : max.full) * 60_000;
  // The orderly limit below, then the hard one a minute later should the main thread be stuck.
  startWatchdog(limitMs + 60_000);
  const started = performance.now();
  const log = (line: string) => console.log(`[${((performance.now() - started) / 1000).toFixed(1).padStart(6)}s] ${line}`);
  const watchdog = setTimeout(() => {
    console.error(`bench: still running after ${limitMs / 60_000} min, giving up`);
    void terminateAll(3000).finally(() => process.exit(3));
  }, limitMs);
  watchdog.unref();

  const outcome = await scenario.run({ ...cli, log });
  await writeScenario(cli.out, scenario.name, outcome.result);
  console.log(`\n${renderTable(`posfleet bench — ${scenario.name} (${cli.quick ? 'quick' : 'full'}, ${cli.devices} devices)`, outcome.rows)}`);
  for (const note of outcome.notes ?? []) console.log(`note: ${note}`);
  console.log(`\nresults: ${cli.out} ["${scenario.name}"]  (${((performance.now() - started) / 1000).toFixed(0)} s)`);
  const errors = outcome.result.errors;
  return Array.isArray(errors) && errors.length > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : err);
    void terminateAll(3000).finally(() => process.exit(1));
  },
);
