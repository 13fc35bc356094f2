// A cancel asked while the campaign's sends are under way: the sends land first and their commands
// are cancelled with the rest, so a campaign that reads cancelled has no command going out and no
// key left pending. The database holds each command insert for a moment (a trigger), so the cancel
// reliably arrives between a member's keys being prepared and its command being stored. PostgreSQL
// only: embedded PGlite runs one statement at a time, so there the cancel waits behind the insert
// anyway and the race cannot happen.
import { sql } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { CampaignRow } from '../../schemas/tables/campaigns.ts';
import type { KeyRow } from '../../schemas/tables/keys.ts';
import { registerAndEnroll } from '../helpers/devices.ts';
import { eventually } from '../helpers/eventually.ts';
import { databaseKinds } from '../helpers/databases.ts';
import { startTestServer, type TestServer } from '../helpers/testServer.ts';

type RotationView = Pick<CampaignRow, 'id' | 'state'>;
interface KeyInventory {
  history: Array<Pick<KeyRow, 'id' | 'state'>>;
}
interface CommandView {
  id: string;
  type: string;
  state: string;
}

describe.skipIf(!databaseKinds().includes('postgres'))('a campaign cancelled mid-send [postgres]', () => {
  let t: TestServer | undefined;
  const server = () => t!;
  const db = () => server().server.parts.db;
  beforeAll(async () => {
    t = await startTestServer({ database: 'postgres' });
  }, 120_000);
  afterAll(() => t?.stop());

  /** Every keys.install insert waits `seconds` in the database before it is stored. */
  async function slowInstalls(seconds: number) {
    await db().execute(
      sql.raw(`create or replace function slow_insert() returns trigger language plpgsql as $$
        begin perform pg_sleep(${seconds}); return new; end $$`),
    );
    await db().execute(sql.raw(`drop trigger if exists slow_insert on commands`));
    await db().execute(
      sql.raw(
        `create trigger slow_insert before insert on commands for each row when (new.type = 'keys.install') execute function slow_insert()`,
      ),
    );
  }

  afterEach(async () => {
    await db().execute(sql.raw(`drop trigger if exists slow_insert on commands`));
  });

  it('cancels the commands of sends under way before it reads cancelled', async () => {
    const away = (await registerAndEnroll(server())).deviceId;
    await slowInstalls(0.6);
    const created = await server().api<RotationView>('POST', '/v1/key-rotations', {
      name: 'cancelled mid-send',
      usages: ['TPK'],
      target: { deviceIds: [away] },
      phases: [{ name: 'all', percent: 100 }],
      successThreshold: 100,
      errorThreshold: 0,
    });
    expect(created.status).toBe(201);
    const id = created.body.id;
    expect((await server().api('POST', `/v1/key-rotations/${id}/start`)).status).toBe(200);
    // Keys are prepared before the command is created: once they are pending, the send is under way.
    await eventually(
      async () =>
        (await server().api<KeyInventory>('GET', `/v1/devices/${away}/keys?history=true`)).body.history.some((h) => h.state === 'pending'),
      { what: 'the keys of the send prepared' },
    );

    const cancelled = await server().api<RotationView>('POST', `/v1/key-rotations/${id}/cancel`);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.state).toBe('cancelled');
    const commands = (await server().api<{ items: CommandView[] }>('GET', `/v1/devices/${away}/commands`)).body.items;
    expect(commands.filter((c) => c.type === 'keys.install').map((c) => c.state)).toEqual(['cancelled']);
    const history = (await server().api<KeyInventory>('GET', `/v1/devices/${away}/keys?history=true`)).body.history;
    expect(history.filter((h) => h.state === 'pending')).toEqual([]);
  });
});
