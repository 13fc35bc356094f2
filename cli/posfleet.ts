#!/usr/bin/env -S node --import tsx
// posfleet: the operator CLI (docs/cli.md). `npm run cli -- <command>` or, installed, `posfleet <command>`.
// Global options anywhere on the line: --json (the API's JSON instead of tables), --profile NAME,
// -h/--help. Exit codes: cli/errors.ts.
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createCtx, isGroup, type Area, type Command, type Group } from './context.ts';
import { exitCodes, reportOf, UsageError } from './errors.ts';
import { splitGlobals } from './globals.ts';
import { createOutput } from './output.ts';
import { areas } from './commands/index.ts';

function helpOf(path: string[], commands: Record<string, { summary: string }>): string {
  const name = ['posfleet', ...path].join(' ');
  const width = Math.max(...Object.keys(commands).map((k) => k.length));
  const lines = Object.entries(commands).map(([k, c]) => `  ${k.padEnd(width)}  ${c.summary}`);
  return `${name} <command>\n\n${lines.join('\n')}\n\nGlobal options: --json, --profile NAME, --help. docs/cli.md has every command.`;
}

export async function main(argv: readonly string[]): Promise<number> {
  const out = createOutput();
  try {
    const g = splitGlobals(argv);
    const [first, ...afterFirst] = g.rest;
    const area: Area | undefined = first === undefined ? undefined : areas[first];
    if (!area) {
      if (g.help || first === undefined || first === 'help') {
        out.line(helpOf([], areas));
        return first === undefined && !g.help ? exitCodes.usage : exitCodes.ok;
      }
      throw new UsageError(`unknown command "${first}"\n\n${helpOf([], areas)}`);
    }
    let node: Command | Group = await area.load();
    const path = [first!];
    let args = afterFirst;
    while (isGroup(node)) {
      const word: string | undefined = args[0];
      const next: Command | Group | undefined = word === undefined ? undefined : node.commands[word];
      if (!next) {
        if (g.help || word === 'help') {
          out.line(helpOf(path, node.commands));
          return exitCodes.ok;
        }
        throw new UsageError(
          `${word === undefined ? 'a command is missing' : `unknown command "${word}"`}\n\n${helpOf(path, node.commands)}`,
        );
      }
      path.push(word!);
      args = args.slice(1);
      node = next;
    }
    if (g.help) {
      out.line(`${node.summary}\n  ${node.usage}`);
      return exitCodes.ok;
    }
    await node.run(createCtx(out, process.env, g.json, g.profile), args);
    return exitCodes.ok;
  } catch (err) {
    out.endStatus();
    const r = reportOf(err);
    out.note(r.line);
    return r.code;
  }
}

// Run when this file is the program (`node --import tsx cli/posfleet.ts`, the npm bin's symlink).
const self = fileURLToPath(import.meta.url);
if (process.argv[1] && realpathSync(process.argv[1]) === self) {
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
