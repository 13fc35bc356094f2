// An operator's pause and resume of a running rollout: each is idempotent at its own state, refused
// (409 invalid_state) from any other, and the state reads back from the API.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ErrorBody } from '../../server/http/errorHandler.ts';
import { registerAndEnroll } from '../helpers/devices.ts';
import type { TestServer } from '../helpers/testServer.ts';
import { onePhaseRollout, publishFirmware, startOtaServer, type RolloutView } from './otaHarness.ts';

describe('rollout pause and resume', () => {
  let t: TestServer;
  let fw = '';

  beforeAll(async () => {
    t = await startOtaServer();
    fw = await publishFirmware(t, '3.1.0', 1024);
  });
  afterAll(async () => t?.stop());

  const control = (id: string, action: 'start' | 'pause' | 'resume') =>
    t.api<RolloutView & ErrorBody>('POST', `/v1/rollouts/${id}/${action}`);

  it('pauses and resumes a running rollout, each twice with the same answer, and refuses both on a draft', async () => {
    // The terminal never connects: its command stays sent, so the rollout keeps running.
    const dev = (await registerAndEnroll(t)).deviceId;
    const created = await t.api<RolloutView>('POST', '/v1/rollouts', onePhaseRollout('pause-resume', fw, [dev]));
    expect(created.status).toBe(201);
    const id = created.body.id;

    for (const action of ['pause', 'resume'] as const) {
      const refused = await control(id, action);
      expect(refused.status).toBe(409);
      expect(refused.body.error).toEqual({ code: 'invalid_state', message: `campaign ${id} is draft` });
    }

    expect((await control(id, 'start')).body.state).toBe('running');
    for (let i = 0; i < 2; i++) {
      const paused = await control(id, 'pause');
      expect(paused.status).toBe(200);
      expect(paused.body).toMatchObject({ id, state: 'paused', pausedReason: 'operator' });
    }
    expect((await t.api<RolloutView>('GET', `/v1/rollouts/${id}`)).body).toMatchObject({ state: 'paused', pausedReason: 'operator' });

    for (let i = 0; i < 2; i++) {
      const resumed = await control(id, 'resume');
      expect(resumed.status).toBe(200);
      expect(resumed.body).toMatchObject({ id, state: 'running', pausedReason: null });
    }
    expect((await t.api<RolloutView>('GET', `/v1/rollouts/${id}`)).body.state).toBe('running');
    expect((await control(id, 'pause')).body.state).toBe('paused');
    expect((await t.api<RolloutView>('POST', `/v1/rollouts/${id}/cancel`)).body.state).toBe('cancelled');
    const afterCancel = await control(id, 'resume');
    expect(afterCancel.status).toBe(409);
    expect(afterCancel.body.error.message).toBe(`campaign ${id} is cancelled`);
  });
});
