// Which strings the database cannot store, found anywhere in a parsed request, by field path.
import { describe, expect, it } from 'vitest';
import { parseDeviceCsv } from '../../server/devices/csvImport.ts';
import { AppError } from '../../server/errors.ts';
import { MAX_NESTING, refuseUnstorable, unstorableFields, unstorableReason } from '../../server/http/storableText.ts';

describe('unstorable text', () => {
  it('names NUL and lone surrogates, and lets everything else through', () => {
    expect(unstorableReason('a\u0000b')).toBe('contains U+0000 (NUL), which cannot be stored');
    expect(unstorableReason('a\ud800b')).toBe('contains a lone surrogate U+D800, which cannot be stored');
    expect(unstorableReason('x\udc00')).toBe('contains a lone surrogate U+DC00, which cannot be stored');
    for (const fine of ['', 'plain', 'tab\tnewline\n\u0001\u007f', 'emoji \ud83d\ude00', '\ufffd', 'äöü 漢字'])
      expect(unstorableReason(fine)).toBeUndefined();
  });

  it('finds them in nested values and keys, by path', () => {
    const value = {
      name: 'ok',
      labels: { store: 'a\u0000', 'k\u0000': 'v' },
      list: ['x', { deep: '\ud800' }],
      at: new Date(0),
      n: 1,
      none: null,
    };
    expect(unstorableFields(value)).toEqual([
      { path: 'labels.store', message: 'contains U+0000 (NUL), which cannot be stored' },
      { path: 'labels', message: 'a key contains U+0000 (NUL), which cannot be stored' },
      { path: 'list.1.deep', message: 'contains a lone surrogate U+D800, which cannot be stored' },
    ]);
    expect(unstorableFields({ fine: ['a', { b: 'c' }] })).toEqual([]);
  });

  it('names a value nested deeper than MAX_NESTING once, and walks 100,000 levels without overflowing', () => {
    let deep: unknown = 'a\u0000';
    for (let i = 0; i < 100_000; i++) deep = i % 2 ? [deep] : { k: deep };
    const fields = unstorableFields({ body: deep });
    expect(fields).toHaveLength(1);
    expect(fields[0]!.message).toBe(`nested deeper than ${MAX_NESTING} levels`);
    // The container that would open level MAX_NESTING + 1 is named.
    expect(fields[0]!.path.split('.')).toHaveLength(MAX_NESTING);
    let fits: unknown = 'x';
    for (let i = 1; i < MAX_NESTING; i++) fits = [fits];
    expect(unstorableFields({ fits })).toEqual([]);
    expect(unstorableFields({ over: [fits] })).toEqual([
      { path: `over${'.0'.repeat(MAX_NESTING - 1)}`, message: `nested deeper than ${MAX_NESTING} levels` },
    ]);
  });

  it('refuses with 400 validation_failed carrying the fields', () => {
    expect(() => refuseUnstorable({ a: 'fine' })).not.toThrow();
    try {
      refuseUnstorable({ reason: 'a\u0000b' });
      expect.unreachable('a NUL must be refused');
    } catch (err) {
      expect(err).toBeInstanceOf(AppError);
      const e = err as AppError;
      expect([e.status, e.code]).toEqual([400, 'validation_failed']);
      expect(e.details).toEqual([{ path: 'reason', message: 'contains U+0000 (NUL), which cannot be stored' }]);
    }
  });

  it('refuses a CSV file with NUL in any cell, naming line and column', () => {
    const csv = 'serial,model,store\nA-1,PAX-A920,ok\nA-2,PAX-A920,a\u0000b\nA-3,PAX\u0000,x\n';
    expect(() => parseDeviceCsv(csv)).toThrow(AppError);
    try {
      parseDeviceCsv(csv);
    } catch (err) {
      expect((err as AppError).details).toEqual([
        { path: 'line 3.store', message: 'contains U+0000 (NUL), which cannot be stored' },
        { path: 'line 4.model', message: 'contains U+0000 (NUL), which cannot be stored' },
      ]);
    }
    expect(parseDeviceCsv('serial,model,store\nA-1,PAX-A920,ok\n').rows).toHaveLength(1);
    // A header cell that cannot be stored is not echoed as a column name.
    expect(() => parseDeviceCsv('serial,model,st\u0000\nA-1,PAX-A920,x\u0000\n')).toThrow(
      expect.objectContaining({
        details: [
          { path: 'line 1.column 3', message: 'contains U+0000 (NUL), which cannot be stored' },
          { path: 'line 2.column 3', message: 'contains U+0000 (NUL), which cannot be stored' },
        ],
      }),
    );
  });
});
