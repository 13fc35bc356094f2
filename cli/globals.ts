// The options every command takes, wherever they stand on the line (up to a `--`): --json,
// --profile NAME, -h/--help. Kept apart from cli/posfleet.ts, whose shebang line only Node's
// loader (tsx) reads, so tests import this as plain TypeScript.
import { UsageError } from './errors.ts';

export interface Globals {
  json: boolean;
  help: boolean;
  profile: string | undefined;
  rest: string[];
}

/** Takes the global options off the line wherever they stand (up to a `--`). */
export function splitGlobals(argv: readonly string[]): Globals {
  const g: Globals = { json: false, help: false, profile: undefined, rest: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      g.rest.push(...argv.slice(i));
      break;
    }
    if (a === '--json') g.json = true;
    else if (a === '-h' || a === '--help') g.help = true;
    else if (a === '--profile') {
      const v = argv[++i];
      if (v === undefined || v.startsWith('-')) throw new UsageError('--profile takes a profile name');
      g.profile = v;
    } else if (a.startsWith('--profile=')) g.profile = a.slice('--profile='.length);
    else g.rest.push(a);
  }
  return g;
}
