import { chmodSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createPublicKey, diffieHellman, generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { openStateStore, StateFileError } from '../../agent/stateStore.ts';
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
    expect(files.sort()).toEqual(['config.json', 'enrollment.json', 'firmware.json', 'kek.json', 'lock.json', 'outbox.json', 'seen-commands.json']);
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

  it('refuses a corrupt state file with a clear error', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'enrollment.json'), '{ nope');
    expect(() => openStateStore(dir).loadEnrollment()).toThrow(StateFileError);
  });
});
