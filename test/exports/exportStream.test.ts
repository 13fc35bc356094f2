// The export stream without a server: page encoding (CSV through csv-stringify, NDJSON), reads
// only on demand, a cancel ending the reads, a failed read erroring the stream.
import { parse } from 'csv-parse/sync';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodePage } from '../../server/exports/exportFormat.ts';
import { exportStream, keysetPages, type ExportOutcome } from '../../server/exports/exportStream.ts';

const columns = ['id', 'name', 'n', 'on', 'tags'];

describe('encodePage', () => {
  it('writes the header before the first page only, also for no rows', () => {
    expect(encodePage('csv', columns, [], true)).toBe('id,name,n,on,tags\n');
    expect(encodePage('csv', columns, [{ id: 'a', name: 'x', n: 1, on: true, tags: { k: 'v' } }], true)).toBe(
      'id,name,n,on,tags\na,x,1,true,"{""k"":""v""}"\n',
    );
    expect(encodePage('csv', columns, [{ id: 'b', name: null, n: -4.5, on: false, tags: [] }], false)).toBe('b,,-4.5,false,[]\n');
  });

  it('defuses text a spreadsheet would run as a formula, never a number', () => {
    const text = encodePage('csv', ['a', 'b', 'c', 'd'], [{ a: '=1+1', b: '+x', c: '@SUM(A1)', d: -45 }], false);
    expect(text).toBe("'=1+1,'+x,'@SUM(A1),-45\n");
  });

  it('round-trips any text through csv-parse, quotes, commas and line breaks included', () => {
    const safe = fc.string().filter((s) => !/^[=+\-@\t\r]/.test(s));
    fc.assert(
      fc.property(fc.array(fc.tuple(safe, safe), { maxLength: 20 }), (pairs) => {
        const rows = pairs.map(([id, name]) => ({ id, name }));
        const text = encodePage('csv', ['id', 'name'], rows, true);
        expect(parse(text, { relax_column_count: true })).toEqual([['id', 'name'], ...pairs]);
      }),
    );
  });

  it('writes NDJSON: one object per line', () => {
    expect(
      encodePage(
        'json',
        columns,
        [
          { id: 'a', n: 1 },
          { id: 'b\nc', n: null },
        ],
        true,
      ),
    ).toBe('{"id":"a","n":1}\n{"id":"b\\nc","n":null}\n');
    expect(encodePage('json', columns, [], true)).toBe('');
  });
});

describe('exportStream', () => {
  /** Pages of `size` numbered rows, counting reads and noting a stop. */
  function counted(pageCount: number, size = 10) {
    const seen = { reads: 0, stopped: false };
    const pages = keysetPages(
      async (after: number | undefined) => {
        const start = after ?? 0;
        return Array.from({ length: Math.max(0, Math.min(size, pageCount * size - start)) }, (_, i) => ({ id: start + i + 1 }));
      },
      (r) => r.id,
      size,
      () => void seen.reads++,
    );
    async function* watched() {
      try {
        yield* pages;
      } finally {
        seen.stopped = true;
      }
    }
    return { seen, pages: watched() };
  }

  it('reads a page only when the reader asks for one, and all of them to the end', async () => {
    const { seen, pages } = counted(5);
    const outcomes: ExportOutcome[] = [];
    const reader = exportStream({ format: 'json', columns: ['id'], pages, ended: (o) => outcomes.push(o) }).getReader();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(seen.reads).toBe(0);
    await reader.read();
    expect(seen.reads).toBe(1);
    let lines = 10;
    for (let r = await reader.read(); !r.done; r = await reader.read()) lines += new TextDecoder().decode(r.value).split('\n').length - 1;
    expect(lines).toBe(50);
    // Five full pages and one empty read that finds the end.
    expect(seen.reads).toBe(6);
    expect(outcomes).toEqual([{ rows: 50, complete: true }]);
  });

  it('stops reading when the reader cancels', async () => {
    const { seen, pages } = counted(100);
    const outcomes: ExportOutcome[] = [];
    const reader = exportStream({ format: 'csv', columns: ['id'], pages, ended: (o) => outcomes.push(o) }).getReader();
    await reader.read();
    await reader.cancel();
    expect(seen.stopped).toBe(true);
    expect(seen.reads).toBe(1);
    expect(outcomes).toEqual([{ rows: 10, complete: false }]);
  });

  it('errors the stream when a read fails, so the answer is cut rather than ended', async () => {
    const failure = new Error('connection lost');
    async function* failing() {
      yield [{ id: 1 }];
      throw failure;
    }
    const outcomes: ExportOutcome[] = [];
    const reader = exportStream({ format: 'csv', columns: ['id'], pages: failing(), ended: (o) => outcomes.push(o) }).getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toBe('id\n1\n');
    await expect(reader.read()).rejects.toBe(failure);
    expect(outcomes).toEqual([{ rows: 1, complete: false, error: failure }]);
  });

  it('sends the CSV header alone when there are no rows', async () => {
    const { pages } = counted(0);
    const text = await new Response(exportStream({ format: 'csv', columns: ['id', 'x'], pages, ended: () => undefined })).text();
    expect(text).toBe('id,x\n');
  });
});
