import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EnrollError, ensureEnrolled } from '../../agent/enroll.ts';
import { openStateStore } from '../../agent/stateStore.ts';
import { startFakeControlPlane, type FakeControlPlane } from './fakeControlPlane.ts';
import { tempDir } from './helpers.ts';

let cp: FakeControlPlane;
beforeAll(async () => {
  cp = await startFakeControlPlane();
  cp.registered.set('E-1', { model: 'PAX-A920' });
  cp.registered.set('E-2', { model: 'PAX-A920' });
});
afterAll(() => cp.close());

const req = (serial: string, enrollToken = cp.enrollToken) => ({ server: cp.httpUrl, serial, model: 'PAX-A920', fwVersion: '1.0.0', enrollToken });

async function codeOf(p: Promise<unknown>): Promise<[string, number]> {
  try {
    await p;
  } catch (err) {
    if (err instanceof EnrollError) return [err.code, err.status];
    throw err;
  }
  throw new Error('expected an EnrollError');
}

describe('enrollment', () => {
  it('enrolls once, stores the credentials, then reuses them without calling the server', async () => {
    const store = openStateStore(tempDir());
    const first = await ensureEnrolled(store, req('E-1'));
    expect(first.fresh).toBe(true);
    expect(first.enrollment).toMatchObject({ serial: 'E-1', mqtt: { url: cp.mqttUrl, username: first.enrollment.deviceId } });
    const calls = cp.enrollCalls;
    const again = await ensureEnrolled(openStateStore(store.dir), req('E-1'));
    expect(again.fresh).toBe(false);
    expect(again.enrollment.deviceId).toBe(first.enrollment.deviceId);
    expect(cp.enrollCalls).toBe(calls);
  });

  it('surfaces server refusals as typed errors carrying the code', async () => {
    expect(await codeOf(ensureEnrolled(openStateStore(tempDir()), req('E-2', 'wrong')))).toEqual(['bad_enroll_token', 401]);
    expect(await codeOf(ensureEnrolled(openStateStore(tempDir()), req('NOPE')))).toEqual(['not_registered', 403]);
    expect(await codeOf(ensureEnrolled(openStateStore(tempDir()), req('E-1')))).toEqual(['already_enrolled', 409]);
  });

  it('reports an unreachable server as a network error', async () => {
    const r = { ...req('E-2'), server: 'http://127.0.0.1:1' };
    expect(await codeOf(ensureEnrolled(openStateStore(tempDir()), r))).toEqual(['network', 0]);
  });

  it('keeps the KEK across a failed attempt, so a retry presents the same key', async () => {
    const store = openStateStore(tempDir());
    await codeOf(ensureEnrolled(store, req('E-2', 'wrong')));
    const kek = store.loadOrCreateKek().publicKey;
    await ensureEnrolled(store, req('E-2'));
    expect(store.loadOrCreateKek().publicKey).toBe(kek);
  });
});
