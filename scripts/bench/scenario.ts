// The extension point: a scenario measures something and returns its own latest.json entry and
// table rows. Add one by writing a module that exports a Scenario and listing it in scenarios.ts.
import type { BenchVault } from './args.ts';

export interface BenchOptions {
  devices: number;
  /** Server instances of the `cluster` scenario; undefined: the scenario's default. */
  instances?: number;
  /** Length of the `soak` scenario's load; undefined: the scenario's default. */
  minutes?: number;
  /** Key vault of the `keys` scenario, run alone; undefined: software, then PKCS#11 beside it. */
  vault?: BenchVault;
  quick: boolean;
  skipBaseline: boolean;
  out: string;
  keepFiles: boolean;
  log: (line: string) => void;
}

export interface TableRow {
  metric: string;
  ours: string;
  baseline?: string;
  target?: string;
  /** null: no target, or nothing measured. */
  pass: boolean | null;
}

export interface ScenarioOutcome {
  /** Written as latest.json[scenario.name]. */
  result: Record<string, unknown>;
  rows: TableRow[];
  /** Printed under the table: caveats a reader of the figures must know. */
  notes?: string[];
}

export interface Scenario {
  name: string;
  description: string;
  /** Whole-run time limit; the runner kills everything past it. Default 5 (quick) / 45 (full). */
  maxMinutes?: { quick: number; full: number };
  run(opts: BenchOptions): Promise<ScenarioOutcome>;
}
