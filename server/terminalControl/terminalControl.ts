// Terminal control, offered to every module in its context: locks with reasons and the device
// blacklist. Any module that must stop a terminal (merchant rules, tamper, an operator) asks here,
// so a terminal gets one versioned lock state whoever locked it.
import type { Logger } from '../log.ts';
import { createDeviceBlacklist, type DeviceBlacklist, type DeviceBlacklistDeps } from './deviceBlacklist.ts';
import { createLocks, type LockDeps, type Locks } from './locks.ts';

export interface TerminalControl {
  locks: Locks;
  blacklist: DeviceBlacklist;
  /** Loads the blacklist and starts adopting bare lock commands; before devices can connect. */
  start(): Promise<void>;
  stop(): void;
}

/** Other instances blacklist too: the in-memory set is reloaded this often. */
const BLACKLIST_RELOAD_MS = 30_000;
/** Lock commands already seen, forgotten past this many (their ids are unique anyway). */
const ADOPTED_MAX = 10_000;

export function createTerminalControl(d: LockDeps & DeviceBlacklistDeps & { log: Logger }): TerminalControl {
  const locks = createLocks(d);
  const blacklist = createDeviceBlacklist(d);
  const log = d.log.child({ module: 'terminalControl' });
  let reload: NodeJS.Timeout | undefined;
  let unsubscribe: (() => void) | undefined;

  return {
    locks,
    blacklist,
    async start() {
      await blacklist.load();
      reload = setInterval(() => void blacklist.load().catch((err: unknown) => log.warn({ err }, 'device blacklist reload failed')), BLACKLIST_RELOAD_MS);
      reload.unref();
      // Bare lock commands (the commands API) become lock reasons (see locks.adoptBareLock).
      const adopted = new Set<string>();
      unsubscribe = d.bus.on('command.updated', (e) => {
        if (e.type !== 'lock' || adopted.has(e.id)) return;
        adopted.add(e.id);
        if (adopted.size > ADOPTED_MAX) adopted.clear();
        void locks.adoptBareLock(e.deviceId, e.id).catch((err: unknown) => log.warn({ err, cmdId: e.id }, 'adopting a lock command failed'));
      });
    },
    stop() {
      if (reload) clearInterval(reload);
      unsubscribe?.();
    },
  };
}
