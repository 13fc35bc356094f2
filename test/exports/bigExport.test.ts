// 100,000 terminals exported as a stream on both engines: every row arrives, the server's live heap
// stays far below what the rows would take held at once, and a client that leaves after the first
// chunk stops the database reads (pages counted by the exports module's internals).
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { sql } from 'drizzle-orm';
import { beforeAll, expect, it } from 'vitest';
import { eventually } from '../helpers/eventually.ts';
import { moduleInternals } from '../helpers/moduleInternals.ts';
import { emptyServer, forEachServer, type TestServer } from '../helpers/testServer.ts';

const ROWS = 100_000;
const PAGE_ROWS = 1000;

// A full collection on demand, so the heap measured is what is still referenced, not garbage
// waiting for the collector. `--expose-gc` set at run time takes effect in a new context.
setFlagsFromString('--expose-gc');
const collected: unknown = runInNewContext('gc');
const gc = typeof collected === 'function' ? () => void collected() : undefined;
const liveHeap = () => {
  gc?.();
  return process.memoryUsage().heapUsed;
};

interface AuditEntry {
  data: { rows: number; complete: boolean };
}

forEachServer('exports of 100,000 terminals', (server) => {
  let t: TestServer;
  let token: string;

  beforeAll(async () => {
    t = server();
    token = await emptyServer(t);
    const db = t.server.parts.db;
    // One statement each: the terminals, and a stored health sample for each (the export's health columns).
    await db.execute(sql`
      insert into devices (id, serial, model, status, fw_version, labels)
      select 'dev_big' || lpad(g::text, 7, '0'), 'BIG-' || lpad(g::text, 7, '0'), 'PAX-A920', 'enrolled', '1.4.2',
             jsonb_build_object('store', 'store-' || (g % 97), 'region', 'north')
      from generate_series(1, ${ROWS}) as g`);
    await db.execute(sql`
      insert into device_state (device_id, online, fw_version, last_seen_at, health)
      select id, false, '1.4.2', now(), jsonb_build_object('ts', 1767225600000, 'seq', 1,
             'battery', jsonb_build_object('level', 80, 'charging', false), 'temperatureC', 31.5)
      from devices`);
  }, 120_000);

  it('streams every row in pages while the heap stays bounded', async () => {
    const internals = moduleInternals(t, 'exports');
    const pagesBefore = internals.pagesRead();
    const baseline = liveHeap();
    let peak = 0;
    let bytes = 0;
    let newlines = 0;
    let chunks = 0;
    let head = '';
    let tail = '';
    const res = await fetch(`${t.url}/v1/exports/devices`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    const decoder = new TextDecoder();
    for await (const chunk of res.body!) {
      bytes += chunk.byteLength;
      for (const byte of chunk) if (byte === 0x0a) newlines++;
      if (head.length < 400) head += decoder.decode(chunk).slice(0, 400);
      tail = (tail + decoder.decode(chunk)).slice(-400);
      // Every so often, what the server (and this reader) still holds after a full collection.
      if (++chunks % 25 === 0) peak = Math.max(peak, liveHeap() - baseline);
    }
    peak = Math.max(peak, liveHeap() - baseline);
    expect(newlines).toBe(ROWS + 1);
    expect(head.startsWith('id,serial,model,status,')).toBe(true);
    expect(head).toContain('\ndev_big0000001,BIG-0000001,PAX-A920,enrolled,org_root,Root,,,,1.4.2,false,');
    expect(tail).toMatch(/\ndev_big0100000,BIG-0100000,PAX-A920,enrolled,.*,80,false,31\.5,/);
    // Keyset pages of 1000 rows, one more read to find the end.
    const pages = internals.pagesRead() - pagesBefore;
    expect(pages).toBeGreaterThanOrEqual(ROWS / PAGE_ROWS);
    expect(pages).toBeLessThanOrEqual(ROWS / PAGE_ROWS + 1);
    // Held at once the rows would take at least their text (here tens of MB) and, as objects,
    // several times that; streamed, the live heap grows by a page or two.
    console.log(
      `exported ${bytes} bytes in ${chunks} chunks; live heap growth at most ${(peak / 1e6).toFixed(1)} MB (gc ${gc ? 'forced' : 'unavailable'})`,
    );
    expect(bytes).toBeGreaterThan(15_000_000);
    expect(peak).toBeLessThan(8_000_000);
  }, 120_000);

  it('stops reading pages when the client leaves after the first chunk, and audits the export as incomplete', async () => {
    const internals = moduleInternals(t, 'exports');
    await eventually(() => internals.active() === 0, { what: 'earlier exports ended' });
    const pagesBefore = internals.pagesRead();
    const abort = new AbortController();
    const res = await fetch(`${t.url}/v1/exports/devices?format=json`, {
      headers: { authorization: `Bearer ${token}` },
      signal: abort.signal,
    });
    const reader = res.body!.getReader();
    const first = await reader.read();
    expect(first.done).toBe(false);
    abort.abort();
    await reader.cancel().catch(() => undefined);
    await eventually(() => internals.active() === 0, { what: 'the abandoned export ended' });
    const pagesAtEnd = internals.pagesRead() - pagesBefore;
    console.log(`the abandoned export read ${pagesAtEnd} pages`);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(internals.pagesRead() - pagesBefore).toBe(pagesAtEnd);
    // Only what the sockets' buffers took before the client left was read, far from the 100 pages.
    expect(pagesAtEnd).toBeGreaterThanOrEqual(1);
    expect(pagesAtEnd).toBeLessThan(ROWS / PAGE_ROWS / 4);
    const audit = await fetch(`${t.url}/v1/audit?action=export.devices&limit=1`, { headers: { authorization: `Bearer ${token}` } });
    const [entry] = ((await audit.json()) as { items: AuditEntry[] }).items;
    expect(entry?.data.complete).toBe(false);
    expect(entry?.data.rows).toBeLessThan(ROWS);
  }, 60_000);
});
