// A final ack the server took but never wrote (killed -9 between the PUBACK and the write-behind)
// leaves the command stored as held by the terminal (`received`, `in_progress`). The terminal has
// finished and will not answer again unprompted; the restarted server must ask it (the agent
// repeats a finished command's final ack, agent/dispatcher.ts), or the command stays open for good.
import { eq } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { commands } from '../../schemas/db.ts';
import type { CommandMessage } from '../../schemas/wire.ts';
import { databaseKinds } from '../helpers/databases.ts';
import { registerAndEnroll } from '../helpers/devices.ts';
import { eventually } from '../helpers/eventually.ts';
import { rawTerminal } from '../helpers/rawTerminal.ts';
import { startTestServer, type TestServer } from '../helpers/testServer.ts';

for (const database of databaseKinds()) {
  describe(`commands held by their terminal across a crash [${database}]`, () => {
    let t: TestServer | undefined;
    afterAll(() => t?.stop());

    it('are settled by the final acks the terminal repeats (stored received, in_progress)', async () => {
      t = await startTestServer({ database });
      const server = t;
      const d = await registerAndEnroll(server);
      // As the agent: a command acted on once, a known one answered with its final ack again.
      const finished = new Set<string>();
      const answer = (cmd: CommandMessage) => {
        if (finished.has(cmd.id)) return [{ state: 'succeeded' }];
        finished.add(cmd.id);
        return [{ state: 'received' }, { state: 'succeeded' }];
      };
      const first = await rawTerminal(d, answer);
      const ids: string[] = [];
      for (let i = 0; i < 2; i++) {
        const created = await server.api<{ id: string }>('POST', `/v1/devices/${d.deviceId}/commands`, { type: 'diag.run' });
        expect(created.status).toBe(201);
        ids.push(created.body.id);
      }
      const states = async () =>
        Promise.all(
          ids.map(async (id) => (await server.api<{ state: string }>('GET', `/v1/devices/${d.deviceId}/commands/${id}`)).body.state),
        );
      await eventually(async () => (await states()).every((s) => s === 'succeeded'), { what: 'the first answers taken' });
      await server.server.parts.commands.flush();
      first.client.end(true);

      // What a crash right after the PUBACK of `succeeded` leaves in the database.
      const held = ['received', 'in_progress'] as const;
      for (const [i, state] of held.entries()) {
        await server.server.parts.db.update(commands).set({ state, finishedAt: null }).where(eq(commands.id, ids[i]!));
      }
      await server.restart();
      expect(await states()).toEqual([...held]);

      const again = await rawTerminal(d, answer);
      await eventually(async () => (await states()).every((s) => s === 'succeeded'), {
        timeoutMs: 8000,
        stepMs: 200,
        what: 'the repeated final acks taken',
      });
      expect(again.seen.map((c) => c.id).sort()).toEqual([...ids].sort());
      again.client.end(true);
    }, 60_000);
  });
}
