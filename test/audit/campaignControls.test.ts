// Issue #16, campaign controls: start, pause, resume and cancel store the campaign's new state with
// their audit entry or not at all; a refused entry (refuseAudit.ts) answers 500 and leaves the
// campaign in the state it had, and the same control then goes through. The engine's own stop at
// the error threshold commits with its entry too.
import { eq, sql } from 'drizzle-orm';
import { afterEach, expect, it } from 'vitest';
import { campaigns } from '../../schemas/tables/campaigns.ts';
import { commandMessage, topicFor } from '../../schemas/wire.ts';
import { connectDevice, publish, registerAndEnroll } from '../helpers/devices.ts';
import { eventually } from '../helpers/eventually.ts';
import { forEachServer } from '../helpers/testServer.ts';
import { refuseAuditOf } from './refuseAudit.ts';

interface Entry {
  action: string;
  target: string | null;
  data: Record<string, unknown>;
}

const base = '/v1/key-rotations';

forEachServer('campaign controls and their audit entries', (server) => {
  let lift: (() => Promise<void>) | undefined;

  const refuse = async (action: string) => {
    lift = await refuseAuditOf(server().server.parts.db, action);
  };
  const unrefuse = async () => {
    await lift?.();
    lift = undefined;
  };
  const entriesOf = async (action: string, id: string) =>
    (await server().api<{ items: Entry[] }>('GET', `/v1/audit?action=${action}&target=${id}`)).body.items;
  const stateOf = async (id: string) => (await server().api<{ state: string }>('GET', `${base}/${id}`)).body.state;
  const members = async (id: string) => (await server().api<{ items: unknown[] }>('GET', `${base}/${id}/devices`)).body.items;
  const control = async (id: string, verb: string) => (await server().api<{ state: string }>('POST', `${base}/${id}/${verb}`)).status;
  const expectChainOk = async () => expect((await server().api<{ ok: boolean }>('GET', '/v1/audit/verify')).body.ok).toBe(true);

  /** A draft rotation of one enrolled terminal (offline unless given), so a started one keeps running. */
  async function draft(deviceId?: string): Promise<string> {
    const device = deviceId ? { deviceId } : await registerAndEnroll(server());
    const spec = {
      name: 'controls',
      usages: ['TPK'],
      target: { deviceIds: [device.deviceId] },
      phases: [{ name: 'all', percent: 100 }],
      successThreshold: 100,
      errorThreshold: 0,
      retries: 0,
    };
    const created = await server().api<{ id: string }>('POST', base, spec);
    expect(created.status).toBe(201);
    return created.body.id;
  }

  /** `verb` refused answers 500 and leaves the campaign `before`, without an entry; then it goes through to `after`. */
  async function expectRefusedThenDone(id: string, verb: string, before: string, after: string) {
    await refuse(`keyRotation.${verb}`);
    expect(await control(id, verb)).toBe(500);
    expect(await stateOf(id)).toBe(before);
    expect(await entriesOf(`keyRotation.${verb}`, id)).toEqual([]);
    await expectChainOk();
    await unrefuse();
    expect(await control(id, verb)).toBe(200);
    expect(await stateOf(id)).toBe(after);
    expect((await entriesOf(`keyRotation.${verb}`, id)).map((e) => e.data)).toEqual([{ from: before, to: after }]);
    await expectChainOk();
  }

  afterEach(unrefuse);

  it('a start whose entry is refused leaves a draft without members', async () => {
    const id = await draft();
    await refuse('keyRotation.start');
    expect(await control(id, 'start')).toBe(500);
    expect(await stateOf(id)).toBe('draft');
    expect(await members(id)).toEqual([]);
    await unrefuse();
    expect(await control(id, 'start')).toBe(200);
    expect(await members(id)).toHaveLength(1);
    expect((await entriesOf('keyRotation.start', id)).map((e) => e.data)).toEqual([{ from: 'draft', to: 'running' }]);
  });

  it('a pause, a resume and a cancel whose entries are refused leave a running campaign as it was', async () => {
    const id = await draft();
    expect(await control(id, 'start')).toBe(200);
    await expectRefusedThenDone(id, 'pause', 'running', 'paused');
    await expectRefusedThenDone(id, 'resume', 'paused', 'running');
    await expectRefusedThenDone(id, 'cancel', 'running', 'cancelled');
    // A control repeated once done changes nothing and writes no second entry.
    expect(await control(id, 'cancel')).toBe(200);
    expect(await entriesOf('keyRotation.cancel', id)).toHaveLength(1);
  });

  it('a cancel of a draft whose entry is refused leaves the draft', async () => {
    const id = await draft();
    await expectRefusedThenDone(id, 'cancel', 'draft', 'cancelled');
  });

  it('a stop at the error threshold whose entry is refused leaves the stored campaign running, and it trips again once loaded', async () => {
    // Read again after the restart: the server's database handle is a new one.
    const db = () => server().server.parts.db;
    const device = await registerAndEnroll(server());
    const client = await connectDevice(device);
    // The terminal fails every command it gets: its one answer crosses an error threshold of 0.
    client.on('message', (_topic, payload) => {
      const cmd = commandMessage.parse(JSON.parse(payload.toString()));
      void publish(client, topicFor(device.deviceId, 'ack'), {
        cmdId: cmd.id,
        state: 'failed',
        error: { code: 'test', message: 'refused by the test terminal' },
      });
    });
    await client.subscribeAsync(topicFor(device.deviceId, 'cmd'), { qos: 1 });
    // Counts each refused entry outside the refused transaction (a sequence is not rolled back).
    await db().execute(sql.raw('create sequence if not exists refused_trips'));
    const refusedTrips = async () =>
      Number(
        (
          await db()
            .select({ n: sql<string>`case when is_called then last_value else 0 end` })
            .from(sql`refused_trips`)
        )[0]!.n,
      );
    const before = await refusedTrips();
    await db().execute(
      sql.raw(`create or replace function refuse_trip() returns trigger language plpgsql as $$
      begin perform nextval('refused_trips'); raise exception 'insert refused by the test'; end $$`),
    );
    await db().execute(
      sql.raw(
        `create trigger refuse_trip before insert on audit_log for each row when (new.action = 'campaign.error_threshold') execute function refuse_trip()`,
      ),
    );
    lift = async () => void (await db().execute(sql.raw('drop trigger if exists refuse_trip on audit_log')));

    const id = await draft(device.deviceId);
    expect(await control(id, 'start')).toBe(200);
    await eventually(async () => (await refusedTrips()) > before, { what: "the trip's entry refused" });
    const stored = async () => (await db().select({ state: campaigns.state }).from(campaigns).where(eq(campaigns.id, id)))[0]?.state;
    expect(await stored()).toBe('running');
    expect(await entriesOf('campaign.error_threshold', id)).toEqual([]);
    await expectChainOk();
    client.end(true);

    await unrefuse();
    await server().restart();
    await eventually(async () => (await stored()) === 'paused', { what: 'the reloaded campaign to trip again' });
    expect(await stateOf(id)).toBe('paused');
    expect((await entriesOf('campaign.error_threshold', id)).map((e) => e.data.rollback)).toEqual([false]);
    await expectChainOk();
  });
});
