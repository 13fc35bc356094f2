// Starting and stopping a scenario's generator child processes (each runs a *Gen.ts script by tsx,
// in its own process group so one signal reaches everything it started).
import { fork } from 'node:child_process';
import { GeneratorClient } from './generatorIpc.ts';
import { terminate, track } from './procs.ts';

export function startGenerators<Req extends { t: string }>(entry: string, name: string, count: number): GeneratorClient<Req>[] {
  return Array.from(
    { length: count },
    () => new GeneratorClient<Req>(track(fork(entry, [], { execArgv: ['--import', 'tsx'], detached: true, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })), name),
  );
}

/** Asks each generator to close its clients, then ends its process (killed after 5 s). */
export async function stopGenerators(gens: readonly GeneratorClient<{ t: string }>[]): Promise<void> {
  await Promise.all(gens.map((g) => g.request({ t: 'close' }, 30_000).catch(() => undefined)));
  await Promise.all(gens.map((g) => terminate(g.child, 5000)));
}
