// The live stream below the root: A's subscriber receives the events of A's terminals and
// campaigns (presence, device events, faults, campaign states) and none of B's, which the root's
// subscriber receives. Real terminals over MQTT, both engines.
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import { eventually } from '../helpers/eventually.ts';
import { openLiveStream, type LiveStream } from '../helpers/liveStream.ts';
import { forEachServer } from '../helpers/testServer.ts';
import { agent, liveOrgTerminal, rootReviewer, tamper, type Agent } from './helpers.ts';

forEachServer('the live stream by subtree', (server) => {
  let a: Agent;
  let b: Agent;
  const streams: LiveStream[] = [];
  const clients: MqttClient[] = [];

  beforeAll(async () => {
    const reviewer = await rootReviewer(server());
    a = await agent(server(), 'Agent A', reviewer, 1);
    b = await agent(server(), 'Agent B', reviewer, 1);
  }, 120_000);
  afterAll(() => {
    for (const s of streams) s.close();
    for (const c of clients) c.end(true);
  });

  const open = async (token?: string) => {
    const s = openLiveStream(server().url, '', token);
    streams.push(s);
    await s.ready;
    expect(s.status()).toBe(200);
    return s;
  };
  const about = (s: LiveStream, deviceId: string) => s.events.filter((e) => e.data.deviceId === deviceId).map((e) => e.event);

  it('A’s stream has A’s terminal’s events and campaign, none of B’s; the root’s has both', async () => {
    const t = server();
    const [mineStream, operatorStream, rootStream] = [await open(a.admin.token), await open(a.operator.token), await open()];
    const mine = await liveOrgTerminal(t, a.admin.token);
    const theirs = await liveOrgTerminal(t, b.admin.token);
    clients.push(mine.client, theirs.client);
    await tamper(theirs);
    await tamper(mine);
    const rotation = (x: Agent, deviceId: string) =>
      t.api<{ id: string }>(
        'POST',
        '/v1/key-rotations',
        { name: `stream ${x.org.name}`, usages: ['TPK'], target: { deviceIds: [deviceId] }, phases: [{ name: 'all', percent: 100 }], successThreshold: 100, errorThreshold: 50 },
        { token: x.operator.token },
      );
    const theirRotation = (await rotation(b, theirs.deviceId)).body.id;
    const myRotation = (await rotation(a, mine.deviceId)).body.id;
    for (const [x, id] of [[b, theirRotation], [a, myRotation]] as const) {
      expect((await t.api('POST', `/v1/key-rotations/${id}/cancel`, undefined, { token: x.operator.token })).status).toBe(200);
    }
    const campaignIds = (s: LiveStream) => s.events.filter((e) => e.event === 'campaign.updated').map((e) => e.data.id);

    // The root sees everything of both, and A all of its own.
    const wanted = ['device.registered', 'device.enrolled', 'device.presence', 'device.event', 'fault.opened'];
    for (const [s, ids, rotations] of [
      [rootStream, [mine.deviceId, theirs.deviceId], [myRotation, theirRotation]],
      [mineStream, [mine.deviceId], [myRotation]],
      [operatorStream, [mine.deviceId], [myRotation]],
    ] as const) {
      await eventually(() => ids.every((id) => wanted.every((w) => about(s, id).includes(w))) && rotations.every((r) => campaignIds(s).includes(r)), {
        timeoutMs: 30_000,
        what: 'the events of the stream’s own terminals and campaigns',
      });
    }
    // A marker emitted after the root saw every event of B's: once A's streams have it, they have judged all of B's.
    const marker = await t.api<{ id: string }>('POST', '/v1/devices', { serial: `MARK-${Date.now().toString(36)}`, model: 'PAX-A920' }, { token: a.admin.token });
    expect(marker.status).toBe(201);
    for (const s of [mineStream, operatorStream]) {
      await eventually(() => about(s, marker.body.id).includes('device.registered'), { timeoutMs: 30_000, what: 'the marker' });
      expect(about(s, theirs.deviceId)).toEqual([]);
      expect(campaignIds(s)).not.toContain(theirRotation);
      expect(JSON.stringify(s.events)).not.toContain(theirs.deviceId);
      expect(JSON.stringify(s.events)).not.toContain(theirs.serial);
    }
  });
});
