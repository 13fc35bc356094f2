// The agent's state dir: credentials, KEK, firmware slots, seen commands, lock, config.
// Owner-only permissions because it holds the MQTT secret and the private KEK; every write is
// temp + fsync + rename so a power cut leaves either the old file or the new one, never half.
// The KEK private key is sealed (kek.enc, AES-256-GCM) under secure-element.key: on a real terminal
// that root key never leaves the secure element; as a file it is part of the simulation. It is
// separate from the key store's storage key so that keys.zeroize leaves the KEK, which the server
// needs to send the next TMK.
import { closeSync, existsSync, fsyncSync, mkdirSync, chmodSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { createPrivateKey, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { join } from 'node:path';
import type { z } from 'zod';
import {
  agentConfig,
  enrollmentFile,
  firmwareSlots,
  kekFile,
  type KekFile,
  lockState,
  outboxFile,
  seenCommands,
  type AgentConfig,
  type Enrollment,
  type FirmwareSlots,
  type LockState,
  type OutboxItem,
  type SeenCommand,
} from './schemas.ts';
import { emptyMerchantState, merchantState, type MerchantState } from './merchantState.ts';
import { seal, shredFile, unseal } from './keys/sealedFile.ts';

export class StateFileError extends Error {
  constructor(readonly file: string, reason: string) {
    super(`state file ${file} is unreadable (${reason}); fix or remove it`);
    this.name = 'StateFileError';
  }
}

export interface Kek {
  privateKey: KeyObject;
  /** base64 of the raw 32-byte X25519 public key, as the server expects it. */
  publicKey: string;
}

export interface StateStore {
  readonly dir: string;
  loadEnrollment(): Enrollment | null;
  saveEnrollment(e: Enrollment): void;
  clearEnrollment(): void;
  loadOrCreateKek(): Kek;
  /** Creates slot A with `initialVersion` the first time. */
  loadFirmware(initialVersion: string): FirmwareSlots;
  saveFirmware(f: FirmwareSlots): void;
  loadLock(): LockState;
  saveLock(l: LockState): void;
  loadConfig(): AgentConfig;
  saveConfig(c: AgentConfig): void;
  loadSeen(): SeenCommand[];
  saveSeen(list: readonly SeenCommand[]): void;
  /** Returns and forgets what a previous run left unsent. */
  takeOutbox(): OutboxItem[];
  saveOutbox(items: readonly OutboxItem[]): void;
  /** Merchant binding, lock version, transaction figures (agent/merchantState.ts). */
  loadMerchant(): MerchantState;
  saveMerchant(m: MerchantState): void;
}

const FILES = {
  enrollment: 'enrollment.json',
  kek: 'kek.enc',
  /** Written by versions that kept the KEK in clear; sealed into kek.enc on first open. */
  legacyKek: 'kek.json',
  secureElement: 'secure-element.key',
  firmware: 'firmware.json',
  lock: 'lock.json',
  config: 'config.json',
  seen: 'seen-commands.json',
  outbox: 'outbox.json',
  merchant: 'merchant.json',
} as const;

const KEK_AAD = Buffer.from('posfleet-agent-kek/v1', 'ascii');

let tmpCounter = 0;

export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  const tmp = `${path}.${process.pid}.${tmpCounter++}.tmp`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

function readJson<S extends z.ZodType>(path: string, schema: S): z.infer<S> | null {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new StateFileError(path, 'not JSON');
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw new StateFileError(path, parsed.error.issues[0]?.message ?? 'schema');
  return parsed.data;
}

export function openStateStore(dir: string): StateStore {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  // mkdir leaves an existing dir's mode alone; tighten it in case it was made by hand.
  chmodSync(dir, 0o700);
  const path = (f: keyof typeof FILES) => join(dir, FILES[f]);
  const write = (f: keyof typeof FILES, value: unknown) => writeFileAtomic(path(f), `${JSON.stringify(value, null, 2)}\n`);

  function secureElementKey(): Buffer {
    if (!existsSync(path('secureElement'))) writeFileAtomic(path('secureElement'), randomBytes(32));
    const k = readFileSync(path('secureElement'));
    if (k.length !== 32) throw new StateFileError(path('secureElement'), 'not a 32-byte key');
    return k;
  }

  function readSealedKek(): KekFile | null {
    if (!existsSync(path('kek'))) return null;
    let clear: Buffer;
    try {
      clear = unseal(secureElementKey(), KEK_AAD, readFileSync(path('kek')));
    } catch {
      throw new StateFileError(path('kek'), 'does not open under the secure element key');
    }
    try {
      const parsed = kekFile.safeParse(JSON.parse(clear.toString('utf8')));
      if (!parsed.success) throw new StateFileError(path('kek'), 'schema');
      return parsed.data;
    } finally {
      clear.fill(0);
    }
  }

  function writeSealedKek(kek: KekFile) {
    const clear = Buffer.from(JSON.stringify(kek), 'utf8');
    const sealed = seal(secureElementKey(), KEK_AAD, clear);
    clear.fill(0);
    writeFileAtomic(path('kek'), sealed);
  }

  return {
    dir,
    loadEnrollment: () => readJson(path('enrollment'), enrollmentFile),
    saveEnrollment: (e) => write('enrollment', enrollmentFile.parse(e)),
    clearEnrollment: () => rmSync(path('enrollment'), { force: true }),
    loadOrCreateKek() {
      let kek = readSealedKek() ?? readJson(path('legacyKek'), kekFile);
      if (!kek) {
        const { privateKey, publicKey } = generateKeyPairSync('x25519');
        // DER, not JWK export: on Node 20 the JWK path was seen to deadlock with a GC in a
        // process creating thousands of keys. The raw keys are the last 32 bytes of each DER.
        const raw = (der: Buffer) => der.subarray(-32).toString('base64url');
        kek = kekFile.parse({
          kty: 'OKP',
          crv: 'X25519',
          d: raw(privateKey.export({ format: 'der', type: 'pkcs8' })),
          x: raw(publicKey.export({ format: 'der', type: 'spki' })),
        });
      }
      if (!existsSync(path('kek'))) writeSealedKek(kek);
      shredFile(path('legacyKek'));
      return {
        privateKey: createPrivateKey({ key: { ...kek }, format: 'jwk' }),
        publicKey: Buffer.from(kek.x, 'base64url').toString('base64'),
      };
    },
    loadFirmware(initialVersion) {
      const f = readJson(path('firmware'), firmwareSlots);
      if (f) return f;
      const fresh: FirmwareSlots = { active: 'A', A: { version: initialVersion }, B: { version: initialVersion } };
      write('firmware', fresh);
      return fresh;
    },
    saveFirmware: (f) => write('firmware', firmwareSlots.parse(f)),
    loadLock: () => readJson(path('lock'), lockState) ?? { locked: false },
    saveLock: (l) => write('lock', lockState.parse(l)),
    loadConfig: () => readJson(path('config'), agentConfig) ?? {},
    saveConfig: (c) => write('config', agentConfig.parse(c)),
    loadSeen: () => readJson(path('seen'), seenCommands) ?? [],
    saveSeen: (list) => write('seen', list),
    takeOutbox() {
      const items = readJson(path('outbox'), outboxFile) ?? [];
      rmSync(path('outbox'), { force: true });
      return items;
    },
    saveOutbox: (items) => (items.length ? write('outbox', items) : rmSync(path('outbox'), { force: true })),
    loadMerchant: () => readJson(path('merchant'), merchantState) ?? emptyMerchantState(),
    saveMerchant: (m) => write('merchant', merchantState.parse(m)),
  };
}
