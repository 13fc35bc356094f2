// The MQTT packet corpus (mqttCorpus.ts) replayed over raw TCP against the real server, each case
// on its own socket, while two honest terminals keep reporting health and take a command: every
// case gets the answer it is owed (closed, refused with its CONNACK code, or dropped with its
// metric and the link kept), the server keeps serving, the honest terminals never notice, and the
// process's memory stays within a bound.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerAndEnroll, type EnrolledDevice } from '../helpers/devices.ts';
import { eventually } from '../helpers/eventually.ts';
import { rawTerminal } from '../helpers/rawTerminal.ts';
import { startTestServer, type TestServer } from '../helpers/testServer.ts';
import { mqttCorpus, selfConnect, type CorpusCase, type CorpusContext } from './mqttCorpus.ts';
import { openRawMqtt, type RawMqttSocket } from './rawMqttSocket.ts';

const MB = 1024 * 1024;
/**
 * What the whole replay may add to the process's resident memory (the server runs in this
 * process). Measured: 9–13 MB; 227 MB before PINGREQs and SUBSCRIBEs were metered (the broker
 * answered every one of 1,000,000 PINGREQs into a socket that never read them).
 */
const RSS_BOUND = 48 * MB;

/** How long a case may take to get its answer: the 5 s CONNECT timeout or 1.5 × the keepalive, with room for a loaded machine. */
const ANSWER_WITHIN_MS = 10_000;

type Terminal = Awaited<ReturnType<typeof rawTerminal>>;

/** `posfleet_messages_dropped_total{reason}` as /metrics shows it. */
async function droppedCount(t: TestServer, reason: string): Promise<number> {
  const r = await t.api<string>('GET', '/metrics');
  const line = r.text.split('\n').find((l) => l.startsWith(`posfleet_messages_dropped_total{reason="${reason}"}`));
  return line ? Number(line.split(' ').pop()) : 0;
}

/** The return code of the first CONNACK, once it comes; null when the socket closed without one. */
async function connackCode(sock: RawMqttSocket, timeoutMs?: number): Promise<number | null> {
  const p = await sock.next('connack', 0, timeoutMs);
  return p?.cmd === 'connack' ? (p.returnCode ?? null) : null;
}

/** Whether the server holds the corpus terminal as connected (its live state, not the socket's view). */
const selfOnline = async (t: TestServer, ctx: CorpusContext) =>
  (await t.api<{ online: boolean }>('GET', `/v1/devices/${ctx.self.deviceId}`)).body.online;

/** Replays one case on a fresh socket; what it got instead of its outcome, or null. */
async function replay(t: TestServer, ctx: CorpusContext, c: CorpusCase): Promise<string | null> {
  const port = t.started.mqttPort!;
  const sock = await openRawMqtt(port);
  try {
    if (c.lane === 'connected') {
      await sock.write(c.connect ?? selfConnect(ctx));
      const code = await connackCode(sock);
      if (code !== 0) return `its CONNECT was not accepted (${code === null ? 'closed' : `CONNACK ${code}`})`;
    }
    if (c.unread) {
      // Its closing is read from the server's side: first the server must hold it as connected.
      await eventually(() => selfOnline(t, ctx), { what: 'the corpus terminal online' });
      sock.socket.pause();
    }
    const droppedBefore = 'reason' in c.outcome ? await droppedCount(t, c.outcome.reason) : 0;
    for (const chunk of c.chunks) await sock.write(chunk);

    switch (c.outcome.kind) {
      case 'closed': {
        // Unread, the socket learns of its closing only once it reads again: the server says first.
        if (c.unread) {
          const offline = await eventually(async () => !(await selfOnline(t, ctx)), {
            timeoutMs: ANSWER_WITHIN_MS,
            what: 'the terminal offline',
          }).catch(() => false);
          if (!offline) return 'the server kept the connection';
          sock.socket.resume();
        }
        await eventually(() => sock.closed, { timeoutMs: ANSWER_WITHIN_MS, what: 'the socket closed', stepMs: 20 }).catch(() => undefined);
        if (!sock.closed) return 'the socket stayed open';
        const accepted = sock.received.filter((p) => p.cmd === 'connack' && p.returnCode === 0).length;
        const expectedAccepted = c.lane === 'connected' ? 1 : 0;
        return accepted === expectedAccepted ? null : `${accepted} CONNACK(s) accepting it`;
      }
      case 'refused': {
        const code = await connackCode(sock, ANSWER_WITHIN_MS);
        if (code !== c.outcome.returnCode) return code === null ? 'closed with no CONNACK' : `CONNACK ${code}`;
        await eventually(() => sock.closed, { timeoutMs: ANSWER_WITHIN_MS, what: 'the refused socket closed', stepMs: 20 }).catch(
          () => undefined,
        );
        return sock.closed ? null : 'refused but left open';
      }
      case 'dropped': {
        const { reason } = c.outcome;
        const counted = await eventually(async () => (await droppedCount(t, reason)) > droppedBefore, { what: `a ${reason} drop` }).catch(
          () => false,
        );
        if (!counted) return `no ${reason} drop counted${sock.closed ? ', and the socket was closed' : ''}`;
        return (await sock.ping()) ? null : 'dropped, but the link was closed';
      }
      case 'alive':
        return (await sock.ping(ANSWER_WITHIN_MS)) ? null : 'the link was closed';
      case 'willDropped': {
        const { reason } = c.outcome;
        if (!(await sock.ping())) return 'the link was closed before its will was due';
        await sock.destroy();
        const counted = await eventually(async () => (await droppedCount(t, reason)) > droppedBefore, {
          what: `the will's ${reason} drop`,
        }).catch(() => false);
        return counted ? null : `its will was not refused as ${reason}`;
      }
    }
  } catch (err) {
    return `threw ${String(err)}`;
  } finally {
    await sock.destroy();
  }
}

/** Runs `cases` side by side, or one at a time (the terminal's own cases share its client id). */
async function replayAll(t: TestServer, ctx: CorpusContext, cases: CorpusCase[], failures: string[], together: boolean): Promise<void> {
  const record = (c: CorpusCase, got: string | null) =>
    void (got && failures.push(`${c.lane} / ${c.name}: expected ${c.outcome.kind}, ${got}`));
  if (together) await Promise.all(cases.map(async (c) => record(c, await replay(t, ctx, c))));
  else for (const c of cases) record(c, await replay(t, ctx, c));
}

describe('MQTT packet corpus over raw TCP', () => {
  let t: TestServer;
  let honest: { device: EnrolledDevice; terminal: Terminal; closes: number }[] = [];
  let self: EnrolledDevice;
  let publisher: NodeJS.Timeout | undefined;
  let published = 0;

  beforeAll(async () => {
    t = await startTestServer();
    const devices = [await registerAndEnroll(t), await registerAndEnroll(t)];
    self = await registerAndEnroll(t);
    honest = await Promise.all(devices.map(async (device) => ({ device, terminal: await rawTerminal(device), closes: 0 })));
    for (const h of honest) h.terminal.client.on('close', () => h.closes++);
  });
  afterAll(async () => {
    clearInterval(publisher);
    for (const h of honest) h.terminal.client.end(true);
    await t?.stop();
  });

  it('answers every case as owed, keeps the honest terminals served and the memory bounded', async () => {
    const victim = honest[0]!;
    const ctx: CorpusContext = { self: { deviceId: self.deviceId, password: self.password }, victim: victim.device.deviceId };
    const corpus = mqttCorpus(ctx);
    const failures: string[] = [];

    // One case of each lane first: what the first connections and drops compile and allocate is
    // reused later, not the corpus's cost.
    const raw = corpus.filter((c) => c.lane === 'raw');
    const own = corpus.filter((c) => c.lane !== 'raw');
    await replayAll(t, ctx, raw.slice(0, 1), failures, true);
    await replayAll(t, ctx, own.filter((c) => c.lane === 'connected').slice(0, 1), failures, false);

    publisher = setInterval(() => {
      published++;
      for (const h of honest) void h.terminal.health({ battery: { level: published % 100, charging: false } });
    }, 100);
    const baseline = process.memoryUsage.rss();
    let peak = baseline;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 10);
    let commands: { body: { id: string } }[] = [];
    try {
      const lanes = Promise.all([replayAll(t, ctx, raw, failures, true), replayAll(t, ctx, own, failures, false)]);
      // A command to each honest terminal while the corpus runs.
      commands = await Promise.all(
        honest.map((h) => t.api<{ id: string }>('POST', `/v1/devices/${h.device.deviceId}/commands`, { type: 'reboot' })),
      );
      await lanes;
    } finally {
      clearInterval(sampler);
    }
    const grewBy = peak - baseline;
    const rss = (await t.api<string>('GET', '/metrics')).text
      .split('\n')
      .find((l) => l.startsWith('posfleet_process_resident_memory_bytes '));
    console.info(
      `mqtt corpus: ${corpus.length} cases, RSS grew by ${(grewBy / MB).toFixed(1)} MB during the replay (bound ${RSS_BOUND / MB} MB); ${rss}`,
    );
    expect(failures, failures.join('\n')).toEqual([]);
    expect(grewBy, `RSS grew by ${(grewBy / MB).toFixed(1)} MB`).toBeLessThan(RSS_BOUND);

    for (const [i, h] of honest.entries()) {
      await eventually(
        async () => {
          const r = await t.api<{ state: string }>('GET', `/v1/devices/${h.device.deviceId}/commands/${commands[i]!.body.id}`);
          return r.body.state === 'succeeded';
        },
        { what: `the reboot of honest terminal ${i} succeeded` },
      );
    }
    clearInterval(publisher);

    expect((await t.api('GET', '/healthz')).status).toBe(200);
    const sent = published;
    for (const h of honest) {
      expect(h.closes, `${h.device.deviceId} was disconnected`).toBe(0);
      expect(h.terminal.isClosed()).toBe(false);
      // Only the command the API sent: no forged one (published, or left as a will) reached it.
      expect(h.terminal.seen.map((c) => c.type)).toEqual(['reboot']);
      await eventually(
        async () => {
          const r = await t.api<{ health: { seq?: number } | null }>('GET', `/v1/devices/${h.device.deviceId}`);
          return (r.body.health?.seq ?? -1) >= sent - 1;
        },
        { what: `every health sample of ${h.device.deviceId}` },
      );
      // Its timeline is still written: no message of the corpus poisoned the write-behind.
      await h.terminal.event('log', { after: 'corpus' });
      await eventually(
        async () => {
          const r = await t.api<{ items: { data: { data?: { after?: string } } }[] }>(
            'GET',
            `/v1/devices/${h.device.deviceId}/timeline?kind=event`,
          );
          return r.body.items.some((i) => i.data.data?.after === 'corpus');
        },
        { what: `the event of ${h.device.deviceId} on its timeline` },
      );
    }

    // The corpus's own terminal has its closings on its timeline, and nothing failed to be stored.
    const expectedReasons = ['flood', 'rate_limited', 'too_large', 'acl', 'bad_json', 'schema'];
    await eventually(
      async () => {
        const timeline = await t.api<{ items: { data: { reason?: string } }[] }>('GET', `/v1/devices/${self.deviceId}/timeline?limit=200`);
        const reasons = new Set(timeline.body.items.map((i) => i.data.reason));
        return expectedReasons.every((r) => reasons.has(r));
      },
      { what: `timeline entries for ${expectedReasons.join(', ')}` },
    );
    expect(await droppedCount(t, 'timeline_write_failed')).toBe(0);
  });
});
