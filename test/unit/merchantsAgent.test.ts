// The agent's binding.set and lock handlers over a real state dir (no broker).
import { describe, expect, it } from 'vitest';
import { parseCommandPayload, type CommandPayload } from '../../schemas/commands.ts';
import type { CommandType } from '../../schemas/wire.ts';
import { CommandError, type HandlerContext } from '../../agent/dispatcher.ts';
import { bindingSetHandler } from '../../agent/handlers/bindingSet.ts';
import { terminalLockHandler } from '../../agent/handlers/terminalLock.ts';
import { openSecureStore } from '../../agent/keys/secureStore.ts';
import { openStateStore, type StateStore } from '../../agent/stateStore.ts';
import { parseSimulateArgs } from '../../scripts/simulate/args.ts';
import { signBindingToken } from '../../schemas/binding.ts';
import { fakeEnrollment, tempDir, testHandlerEnv } from '../agent/helpers.ts';
import { bindingClaims, testBindingKey } from '../helpers/binding.ts';

const { pinned, signer } = testBindingKey();
const claims = bindingClaims({ deviceId: 'dev_h', iat: 1 });
const policy = (merchantId: string) => ({ merchantId, timezone: 'UTC', currency: 'EUR', dailyCountLimit: 5 });

function setup() {
  const store: StateStore = openStateStore(tempDir());
  const enrollment = fakeEnrollment('dev_h', 'mqtt://127.0.0.1:1');
  store.saveEnrollment({
    ...enrollment,
    trust: { firmwarePublishers: [], bindingKey: pinned },
  });
  let applied = 0;
  const env = testHandlerEnv(store, { now: () => 1_000, applyConfig: () => void applied++ });
  let n = 0;
  // What the dispatcher hands a handler: the payload parsed by its type's schema.
  const cmd = <T extends CommandType>(type: T, payload: CommandPayload<T> & Record<string, unknown>): HandlerContext<T> => {
    const parsed = parseCommandPayload(type, payload);
    if (!parsed.ok) throw new Error(`test payload does not fit ${type}: ${JSON.stringify(parsed.issues)}`);
    return { command: { id: `c${++n}`, type, issuedAt: 0, payload }, payload: parsed.payload, progress: () => undefined };
  };
  return { store, env, cmd, applied: () => applied };
}

describe('binding.set handler', () => {
  it('stores a verified binding with its policy, wipes on another merchant, refuses replays', async () => {
    const { store, env, cmd, applied } = setup();
    const bind = bindingSetHandler(env);
    const t1 = signBindingToken(claims, signer);
    expect(await bind(cmd('binding.set', { token: t1, txnPolicy: policy('mer_1') }))).toEqual({
      merchantId: 'mer_1',
      tid: 'TID00001',
      epoch: 1,
      wiped: false,
    });
    expect(store.loadConfig().txnPolicy).toMatchObject({ merchantId: 'mer_1' });
    expect(applied()).toBe(1);
    store.saveMerchant({
      ...store.loadMerchant(),
      figures: { day: '2026-01-01', count: 3, amountMinor: 30, currency: 'EUR' },
      journal: [{ txnId: 'x', at: 1, amountMinor: 10, currency: 'EUR', result: 'approved' }],
    });
    expect(await bind(cmd('binding.set', { token: t1 }))).toMatchObject({ unchanged: true });

    const t2 = signBindingToken({ ...claims, merchantId: 'mer_2', epoch: 2 }, signer);
    // A policy for another merchant than the token's is not taken.
    const keys = openSecureStore(store.dir);
    keys.install([{ slot: 'tpk', usage: 'TPK', keyId: 'k1', version: 1, kcv: 'cmac:A1B2C3', key: Buffer.alloc(32, 1), wk: 'x' }], 1);
    expect(keys.inventory()).toHaveLength(1);
    expect(await bind(cmd('binding.set', { token: t2, txnPolicy: policy('mer_1') }))).toMatchObject({
      merchantId: 'mer_2',
      wiped: true,
      keysZeroized: 1,
    });
    expect(keys.inventory()).toHaveLength(0);
    const after = store.loadMerchant();
    expect(after.figures).toBeNull();
    expect(after.journal).toEqual([]);
    expect(after.highestEpoch).toBe(2);
    expect(store.loadConfig().txnPolicy).toBeUndefined();

    await expect(bind(cmd('binding.set', { token: t1 }))).rejects.toMatchObject({ code: 'stale_epoch', state: 'rejected' });
    await expect(bind(cmd('binding.set', { token: 'pfb1.x.y' }))).rejects.toBeInstanceOf(CommandError);
    // A payload without a token never reaches the handler: the dispatcher refuses it (test/agent/handlers.test.ts).
    expect(parseCommandPayload('binding.set', {})).toMatchObject({ ok: false, issues: [{ path: 'token' }] });
  });
});

describe('versioned lock handler', () => {
  it('applies newer versions only and keeps a managed lock from a bare unlock', async () => {
    const { store, env, cmd } = setup();
    const lock = terminalLockHandler(env, true);
    const unlock = terminalLockHandler(env, false);
    // Out of order: unlock v3 arrives before lock v2.
    expect(await lock(cmd('lock', { version: 1 }))).toEqual({ locked: true, version: 1 });
    expect(await unlock(cmd('unlock', { version: 3 }))).toEqual({ locked: false, version: 3 });
    expect(await lock(cmd('lock', { version: 2 }))).toMatchObject({ locked: false, stale: true });
    expect(store.loadLock().locked).toBe(false);
    expect(await lock(cmd('lock', { version: 4 }))).toEqual({ locked: true, version: 4 });
    await expect(unlock(cmd('unlock', {}))).rejects.toMatchObject({ code: 'lock_managed' });
    expect(store.loadLock().locked).toBe(true);
  });

  it('without versions behaves like the plain handler', async () => {
    const { store, env, cmd } = setup();
    expect(await terminalLockHandler(env, true)(cmd('lock', {}))).toEqual({ locked: true });
    expect(await terminalLockHandler(env, false)(cmd('unlock', {}))).toEqual({ locked: false });
    expect(store.loadLock().locked).toBe(false);
  });
});

describe('simulate flags for payments', () => {
  const base = ['--server', 'http://x', '--devices', '2', '--enroll-token', 'e', '--admin-token', 'a'];
  it('parses the payment pattern and merchant', () => {
    expect(parseSimulateArgs(base).payments).toBeUndefined();
    const a = parseSimulateArgs([
      ...base,
      '--payments',
      'cashout',
      '--txn-interval-s',
      '5',
      '--txn-amount-minor',
      '900',
      '--merchant',
      'mer_1',
    ]);
    expect(a.payments).toEqual({ pattern: 'cashout', meanIntervalS: 5, meanAmountMinor: 900 });
    expect(a.bindMerchantId).toBe('mer_1');
    expect(() => parseSimulateArgs([...base, '--payments', 'lots'])).toThrow(/--payments/);
  });
});
