// The agent's key handlers over one secure store, and the tamper switch: a tamper zeroizes every
// key at once, whether or not the server is reachable.
import type { HandlerRegistry } from '../dispatcher.ts';
import type { HandlerEnv } from '../handlers/env.ts';
import { keysInstallHandler } from '../handlers/keysInstall.ts';
import { keysZeroizeHandler } from '../handlers/keysZeroize.ts';
import { openDukptTerminal, reportingDukpt } from './dukptTerminal.ts';
import { openSecureStore } from './secureStore.ts';

export function keyHandlers(env: HandlerEnv): HandlerRegistry {
  const keys = openSecureStore(env.store.dir);
  const dukpt = openDukptTerminal(env.store.dir, keys);
  // Every inventory the handlers report shows the DUKPT counters as they are now.
  const store = reportingDukpt(keys, dukpt);
  const wipe = (why: string) => {
    const n = store.zeroize();
    if (n) env.log.warn({ zeroized: n, why }, 'tamper: keys zeroized');
  };
  if (env.hardware.readTamper()) wipe('tamper latched at start');
  env.hardware.onTamper?.(() => wipe('tamper switch'));
  return { 'keys.install': keysInstallHandler(env, store, dukpt), 'keys.zeroize': keysZeroizeHandler(env, store) };
}
