// Reaches into a domain module of a running test server for what a test must drive or wait on
// directly (the keys module's settling, the faults module's log purge), typed by module name.
import type { ExportsInternals } from '../../server/exports/exportService.ts';
import type { FaultsInternals } from '../../server/faults/module.ts';
import type { KeysInternals } from '../../server/keys/keysModule.ts';
import type { ServerModule } from '../../server/moduleContract.ts';
import type { TestServer } from './testServer.ts';

interface InternalsByModule {
  keys: KeysInternals;
  faults: FaultsInternals;
  exports: ExportsInternals;
}

type ModuleName = keyof InternalsByModule;

// The factories of server/modules.ts return these shapes under these names.
const exposes = <N extends ModuleName>(m: ServerModule, name: N): m is ServerModule & { internals: InternalsByModule[N] } =>
  m.name === name && 'internals' in m;

export function moduleInternals<N extends ModuleName>(t: TestServer, name: N): InternalsByModule[N] {
  const found = t.server.parts.modules.find((m) => m.name === name);
  if (!found || !exposes(found, name)) throw new Error(`module ${name} is not registered or exposes no internals`);
  return found.internals;
}
