// The agent's key store (SPEC §5): installed keys in one encrypted file in the state dir,
// keystore.enc = nonce 12 ‖ AES-256-GCM(storage key, JSON) ‖ tag 16, AAD "posfleet-agent-keystore/v1".
// The 32-byte storage key is keystore.key (0600): on a real terminal it lives in the secure
// element; as a file it is part of the simulation. Keys never reach a log line; zeroize
// overwrites both files before removing them.
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { inventoryEntry, type InventoryEntry } from '../../schemas/keys.ts';
import { writeFileAtomic } from '../stateStore.ts';
import { seal, shredFile, unseal } from './sealedFile.ts';

const AAD = Buffer.from('posfleet-agent-keystore/v1', 'ascii');
const STORE = 'keystore.enc';
const KEYFILE = 'keystore.key';

const storedKey = inventoryEntry.extend({ key: z.string(), wk: z.string() });
const storeFile = z.object({ v: z.literal(1), slots: z.record(z.string(), storedKey) });
export type StoredKey = z.infer<typeof storedKey>;

export interface NewKey extends Omit<InventoryEntry, 'installedAt'> {
  key: Buffer;
  wk: string;
}

export interface SecureStore {
  inventory(): InventoryEntry[];
  slot(slot: string): (InventoryEntry & { wk: string }) | undefined;
  /** The clear key of a slot (for unwrapping under a TMK); the caller wipes it. */
  keyOf(slot: string): Buffer | undefined;
  /** All or nothing. */
  install(list: readonly NewKey[], now: number): void;
  /** Wipes the listed slots, or everything (the file and the storage key). Returns how many keys went. */
  zeroize(slots?: readonly string[]): number;
}

export function openSecureStore(dir: string): SecureStore {
  const storePath = join(dir, STORE);
  const keyPath = join(dir, KEYFILE);

  function storageKey(): Buffer {
    if (!existsSync(keyPath)) writeFileAtomic(keyPath, randomBytes(32));
    const k = readFileSync(keyPath);
    if (k.length !== 32) throw new Error(`${KEYFILE} is damaged; zeroize the terminal`);
    return k;
  }

  function read(): Record<string, StoredKey> {
    if (!existsSync(storePath)) return {};
    const clear = unseal(storageKey(), AAD, readFileSync(storePath));
    try {
      return storeFile.parse(JSON.parse(clear.toString('utf8'))).slots;
    } finally {
      clear.fill(0);
    }
  }

  function write(slots: Record<string, StoredKey>) {
    const clear = Buffer.from(JSON.stringify({ v: 1, slots }), 'utf8');
    const sealed = seal(storageKey(), AAD, clear);
    clear.fill(0);
    writeFileAtomic(storePath, sealed);
  }

  const view = (s: StoredKey): InventoryEntry => ({ slot: s.slot, usage: s.usage, keyId: s.keyId, version: s.version, kcv: s.kcv, ...(s.installedAt ? { installedAt: s.installedAt } : {}), ...(s.dukpt ? { dukpt: s.dukpt } : {}) });

  return {
    inventory: () => Object.values(read()).map(view).sort((a, b) => a.slot.localeCompare(b.slot)),
    slot(slot) {
      const s = read()[slot];
      return s ? { ...view(s), wk: s.wk } : undefined;
    },
    keyOf(slot) {
      const s = read()[slot];
      return s ? Buffer.from(s.key, 'base64') : undefined;
    },
    install(list, now) {
      const slots = read();
      for (const k of list) {
        slots[k.slot] = { slot: k.slot, usage: k.usage, keyId: k.keyId, version: k.version, kcv: k.kcv, installedAt: now, key: k.key.toString('base64'), wk: k.wk, ...(k.dukpt ? { dukpt: k.dukpt } : {}) };
      }
      write(slots);
    },
    zeroize(which) {
      const slots = read();
      const names = which ? which.filter((s) => s in slots) : Object.keys(slots);
      if (!which) {
        shredFile(storePath);
        shredFile(keyPath);
        return names.length;
      }
      for (const n of names) delete slots[n];
      write(slots);
      return names.length;
    },
  };
}
