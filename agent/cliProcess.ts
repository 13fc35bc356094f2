// What the terminal command lines (`npm run agent`, `npm run simulate`) do with their process:
// errors on stderr under the command's name, the usage text on bad flags, the --ca file read
// once, and Ctrl-C that stops cleanly, or at once when pressed again.
import { readFileSync } from 'node:fs';
import { UsageError } from './cliArgs.ts';

export interface CliProcess {
  fail(message: string, code?: number): never;
  /** The parsed flags, or exit 2 with the message and the usage text. */
  args<T>(parse: (argv: string[]) => T, usage: string): T;
  /** The PEM CA file, or exit 2 saying why it cannot be read. */
  readCa(path: string): Buffer;
  /** SIGINT and SIGTERM call `stop` once; a second signal exits with 130 without waiting. */
  onStopSignals(stop: (signal: string) => void): void;
}

export function cliProcess(name: string): CliProcess {
  const fail = (message: string, code = 1): never => {
    process.stderr.write(`${name}: ${message}\n`);
    return process.exit(code);
  };
  return {
    fail,
    args(parse, usage) {
      try {
        return parse(process.argv.slice(2));
      } catch (err) {
        if (err instanceof UsageError) fail(`${err.message}\n${usage}`, 2);
        throw err;
      }
    },
    readCa(path) {
      try {
        return readFileSync(path);
      } catch (err) {
        return fail(`--ca: cannot read ${path}: ${(err as Error).message}`, 2);
      }
    },
    onStopSignals(stop) {
      let signals = 0;
      const onSignal = (signal: string) => (++signals > 1 ? process.exit(130) : stop(signal));
      process.on('SIGINT', () => onSignal('SIGINT'));
      process.on('SIGTERM', () => onSignal('SIGTERM'));
    },
  };
}
