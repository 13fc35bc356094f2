import { chmodSync, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createPublicKey, diffieHellman, generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { openStateStore, StateFileError } from '../../agent/stateStore.ts';
import { openSecureStore } from '../../agent/keys/secureStore.ts';
import { fakeEnrollment, tempDir } from './helpers.ts';

const mode = (p: string) => statSync(p).mode & 0o777;

describe('state store', () => {
  it('creates the dir 0700 and every file 0600, with no temp files left behind', () => {
    const dir = join(tempDir(), 'state');
    const store = openStateStore(dir);
    store.saveEnrollment(fakeEnrollment('dev-1', 'mqtt://127.0.0.1:1883'));
    store.loadOrCreateKek();
    store.loadFirmware('1.0.0');
    store.saveLock({ locked: true, changedAt: 1 });
    store.saveConfig({ healthIntervalS: 30 });
    store.saveSeen([{ id: 'c', type: 'lock', at: 1 }]);
    store.saveOutbox([{ kind: 'event', payload: '{}' }]);
    expect(mode(dir)).toBe(0o700);
    const files = readdirSync(dir);
    expect(files.sort()).toEqual(['config.json', 'enrollment.json', 'firmware.json', 'kek.enc', 'lock.json', 'outbox.json', 'secure-element.key', 'seen-commands.json']);
    for (const f of files) expect(mode(join(dir, f))).toBe(0o600);
  });

  it('tightens an existing, too-open dir', () => {
    const dir = tempDir();
    chmodSync(dir, 0o755);
    openStateStore(dir);
    expect(mode(dir)).toBe(0o700);
  });

  it('round-trips state and keeps the KEK stable across opens', () => {
    const dir = tempDir();
    const a = openStateStore(dir);
    const kek = a.loadOrCreateKek();
    a.saveEnrollment(fakeEnrollment('dev-2', 'mqtt://x'));
    a.saveConfig({ healthIntervalS: 5, cardBlacklist: ['h1'] });
    const b = openStateStore(dir);
    expect(b.loadOrCreateKek().publicKey).toBe(kek.publicKey);
    expect(b.loadEnrollment()?.deviceId).toBe('dev-2');
    expect(b.loadConfig()).toEqual({ healthIntervalS: 5, cardBlacklist: ['h1'] });
    expect(b.loadLock()).toEqual({ locked: false });
    expect(b.loadFirmware('2.0.0')).toEqual({ active: 'A', A: { version: '2.0.0' }, B: { version: '2.0.0' } });
    expect(b.takeOutbox()).toEqual([]);
  });

  it('exports the KEK public key as base64 of the raw 32 bytes, usable for X25519', () => {
    const kek = openStateStore(tempDir()).loadOrCreateKek();
    const raw = Buffer.from(kek.publicKey, 'base64');
    expect(raw.length).toBe(32);
    // What the server does: agree with an ephemeral key against the device's public key.
    const server = generateKeyPairSync('x25519');
    const devicePub = createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: raw.toString('base64url') }, format: 'jwk' });
    const s1 = diffieHellman({ privateKey: server.privateKey, publicKey: devicePub });
    const s2 = diffieHellman({ privateKey: kek.privateKey, publicKey: server.publicKey });
    expect(s1.equals(s2)).toBe(true);
  });

  it('keeps the KEK private key sealed: no encoding of its bytes is on disk', () => {
    const dir = tempDir();
    const kek = openStateStore(dir).loadOrCreateKek();
    const der = kek.privateKey.export({ format: 'der', type: 'pkcs8' });
    const d = der.subarray(-32);
    const encodings = [d.toString('hex'), d.toString('hex').toUpperCase(), d.toString('base64'), d.toString('base64url')];
    for (const f of readdirSync(dir)) {
      const bytes = readFileSync(join(dir, f));
      expect(bytes.includes(d)).toBe(false);
      for (const e of encodings) expect(bytes.toString('latin1')).not.toContain(e);
    }
  });

  it('seals a KEK left in clear by an older version, same key, and shreds the clear file', () => {
    const dir = tempDir();
    const { privateKey, publicKey } = generateKeyPairSync('x25519');
    const jwk = privateKey.export({ format: 'jwk' });
    writeFileSync(join(dir, 'kek.json'), JSON.stringify(jwk), { mode: 0o600 });
    const kek = openStateStore(dir).loadOrCreateKek();
    expect(kek.publicKey).toBe(Buffer.from(publicKey.export({ format: 'jwk' }).x ?? '', 'base64url').toString('base64'));
    expect(existsSync(join(dir, 'kek.json'))).toBe(false);
    expect(existsSync(join(dir, 'kek.enc'))).toBe(true);
    expect(openStateStore(dir).loadOrCreateKek().publicKey).toBe(kek.publicKey);
  });

  it('keeps the KEK through a full key zeroize, which the next TMK delivery needs', () => {
    const dir = tempDir();
    const before = openStateStore(dir).loadOrCreateKek();
    const keys = openSecureStore(dir);
    keys.install([{ slot: 'tmk', usage: 'TMK', keyId: 'k1', version: 1, kcv: 'cmac:000000', key: Buffer.alloc(32, 1), wk: 'x' }], 1);
    expect(keys.zeroize()).toBe(1);
    expect(openStateStore(dir).loadOrCreateKek().publicKey).toBe(before.publicKey);
  });

  it('refuses a KEK file that was altered, rather than making a new key silently', () => {
    const dir = tempDir();
    openStateStore(dir).loadOrCreateKek();
    const sealed = readFileSync(join(dir, 'kek.enc'));
    sealed[20] = (sealed[20] ?? 0) ^ 1;
    writeFileSync(join(dir, 'kek.enc'), sealed);
    expect(() => openStateStore(dir).loadOrCreateKek()).toThrow(StateFileError);
  });

  it('refuses a corrupt state file with a clear error', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'enrollment.json'), '{ nope');
    expect(() => openStateStore(dir).loadEnrollment()).toThrow(StateFileError);
  });
});
