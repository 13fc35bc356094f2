import { describe, expect, it } from 'vitest';
import { parseDeviceCsv, splitCsvLine } from '../../server/devices/csvImport.ts';

describe('splitCsvLine', () => {
  it('splits on commas and trims each field', () => {
    expect(splitCsvLine('a,b,c')).toEqual(['a', 'b', 'c']);
    expect(splitCsvLine(' a , b ,c ')).toEqual(['a', 'b', 'c']);
    expect(splitCsvLine('')).toEqual(['']);
    expect(splitCsvLine('a,')).toEqual(['a', '']);
    expect(splitCsvLine(',,')).toEqual(['', '', '']);
  });

  it('keeps commas inside quotes and drops the quotes', () => {
    expect(splitCsvLine('a,"b,c",d')).toEqual(['a', 'b,c', 'd']);
    expect(splitCsvLine('"x"')).toEqual(['x']);
    expect(splitCsvLine('""')).toEqual(['']);
    expect(splitCsvLine('"",""')).toEqual(['', '']);
  });

  it('reads "" inside quotes as one quote', () => {
    expect(splitCsvLine('"say ""hi"""')).toEqual(['say "hi"']);
    expect(splitCsvLine('"a""b",c')).toEqual(['a"b', 'c']);
    expect(splitCsvLine('""""')).toEqual(['"']);
    expect(splitCsvLine('"a,""b"",c",d')).toEqual(['a,"b",c', 'd']);
  });

  it('is lenient with an unterminated quote (reads to the end of the line)', () => {
    expect(splitCsvLine('"abc,def')).toEqual(['abc,def']);
  });
});

describe('parseDeviceCsv', () => {
  it('reads serial, model and the other columns as labels', () => {
    const r = parseDeviceCsv('serial,model,site,region\nSN001,Move 5000,Paris-1,EU\nSN002,Lane/3000,,US\n');
    expect(r.errors).toEqual([]);
    expect(r.rows).toEqual([
      { line: 2, serial: 'SN001', model: 'Move 5000', labels: { site: 'Paris-1', region: 'EU' } },
      { line: 3, serial: 'SN002', model: 'Lane/3000', labels: { region: 'US' } },
    ]);
  });

  it('finds the columns by name in any order and any case, with spaces around', () => {
    const r = parseDeviceCsv(' Site , MODEL ,Serial\nlyon,A920,SN9\n');
    expect(r.errors).toEqual([]);
    expect(r.rows).toEqual([{ line: 2, serial: 'SN9', model: 'A920', labels: { site: 'lyon' } }]);
  });

  it('accepts quoted header names and quoted cells with commas and escaped quotes', () => {
    const r = parseDeviceCsv('"serial","model","note"\n"SN1","A920","shop ""Le Coin"", 2nd floor"\n');
    expect(r.errors).toEqual([]);
    expect(r.rows[0]).toEqual({ line: 2, serial: 'SN1', model: 'A920', labels: { note: 'shop "Le Coin", 2nd floor' } });
  });

  it('strips a UTF-8 BOM before the header', () => {
    const r = parseDeviceCsv('\uFEFFserial,model\nSN1,A920\n');
    expect(r.errors).toEqual([]);
    expect(r.rows.map((x) => x.serial)).toEqual(['SN1']);
  });

  it('reads CRLF files without carrying \\r into values', () => {
    const r = parseDeviceCsv('serial,model,site\r\nSN1,A920,lyon\r\nSN2,A930,nice\r\n');
    expect(r.errors).toEqual([]);
    expect(r.rows).toEqual([
      { line: 2, serial: 'SN1', model: 'A920', labels: { site: 'lyon' } },
      { line: 3, serial: 'SN2', model: 'A930', labels: { site: 'nice' } },
    ]);
  });

  it('skips blank lines but keeps line numbers of the file', () => {
    const r = parseDeviceCsv('serial,model\n\nSN1,A920\n   \nSN2,A920\n\n');
    expect(r.errors).toEqual([]);
    expect(r.rows.map((x) => [x.line, x.serial])).toEqual([
      [3, 'SN1'],
      [5, 'SN2'],
    ]);
  });

  it('ignores label columns without a header name and empty label cells', () => {
    const r = parseDeviceCsv('serial,model,,site\nSN1,A920,orphan,\n');
    expect(r.rows[0]!.labels).toEqual({});
  });

  it('lowercases label keys from the header', () => {
    const r = parseDeviceCsv('serial,model,Region\nSN1,A920,EU\n');
    expect(r.rows[0]!.labels).toEqual({ region: 'EU' });
  });

  it('refuses a header without serial or model', () => {
    const err = [{ line: 1, message: 'the header must name the columns serial and model' }];
    expect(parseDeviceCsv('serial,site\nSN1,x\n')).toEqual({ rows: [], errors: err });
    expect(parseDeviceCsv('model\nA920\n')).toEqual({ rows: [], errors: err });
    expect(parseDeviceCsv('')).toEqual({ rows: [], errors: err });
    expect(parseDeviceCsv('SN1,A920\n')).toEqual({ rows: [], errors: err });
  });

  it('reports a bad serial with its line and keeps going', () => {
    const long = 'S'.repeat(65);
    const r = parseDeviceCsv(`serial,model\nhas space,A920\n-lead,A920\n${long},A920\n,A920\nOK.1_a-b,A920\n`);
    expect(r.rows.map((x) => x.serial)).toEqual(['OK.1_a-b']);
    expect(r.errors.map((e) => e.line)).toEqual([2, 3, 4, 5]);
    for (const e of r.errors) expect(e.message).toMatch(/^bad serial/);
    expect(r.errors[0]!.message).toBe('bad serial "has space"');
  });

  it('accepts a 64-character serial and reports a bad model', () => {
    const max = 'S'.repeat(64);
    const r = parseDeviceCsv(`serial,model\n${max},A920\nSN2,\nSN3,bad;model\nSN4, Lane 3000 \n`);
    expect(r.rows.map((x) => [x.serial, x.model])).toEqual([
      [max, 'A920'],
      ['SN4', 'Lane 3000'],
    ]);
    expect(r.errors).toEqual([
      { line: 3, message: 'bad model ""' },
      { line: 4, message: 'bad model "bad;model"' },
    ]);
  });

  it('reports a row that is missing the model column', () => {
    const r = parseDeviceCsv('serial,model\nSN1\n');
    expect(r.rows).toEqual([]);
    expect(r.errors).toEqual([{ line: 2, message: 'bad model ""' }]);
  });

  it('keeps the first of a duplicated serial and reports the others', () => {
    const r = parseDeviceCsv('serial,model\nSN1,A920\nSN2,A920\nSN1,A930\nSN1,A940\n');
    expect(r.rows.map((x) => [x.line, x.serial, x.model])).toEqual([
      [2, 'SN1', 'A920'],
      [3, 'SN2', 'A920'],
    ]);
    expect(r.errors).toEqual([
      { line: 4, message: 'serial SN1 appears twice in the file' },
      { line: 5, message: 'serial SN1 appears twice in the file' },
    ]);
  });

  it('a serial that was refused earlier does not count as seen', () => {
    const r = parseDeviceCsv('serial,model\nSN1,\nSN1,A920\n');
    expect(r.rows.map((x) => x.line)).toEqual([3]);
  });

  it('stops after maxRows good rows and says so', () => {
    const r = parseDeviceCsv('serial,model\nSN1,A\nbad serial,A\nSN2,A\nSN3,A\nSN4,A\n', 2);
    expect(r.rows.map((x) => x.serial)).toEqual(['SN1', 'SN2']);
    expect(r.errors).toEqual([
      { line: 3, message: 'bad serial "bad serial"' },
      { line: 5, message: 'more than 2 rows; the rest was not read' },
    ]);
  });

  it('exactly maxRows rows (and trailing blank lines) is not an error', () => {
    const r = parseDeviceCsv('serial,model\nSN1,A\nSN2,A\n\n\n', 2);
    expect(r.rows).toHaveLength(2);
    expect(r.errors).toEqual([]);
  });

  it('reads a large file in one pass', () => {
    const lines = ['serial,model,store'];
    for (let i = 0; i < 20_000; i++) lines.push(`SN${i},Move 5000,store-${i % 37}`);
    const r = parseDeviceCsv(lines.join('\n'));
    expect(r.errors).toEqual([]);
    expect(r.rows).toHaveLength(20_000);
    expect(r.rows[19_999]).toEqual({ line: 20_001, serial: 'SN19999', model: 'Move 5000', labels: { store: `store-${19_999 % 37}` } });
  });
});

describe('parseDeviceCsv over csv-parse: records spanning lines', () => {
  it('reads a quoted field holding line breaks as one cell, the record at the line it starts on', () => {
    const r = parseDeviceCsv('serial,model,note\nSN1,A920,"back office,\nshelf ""B""\nleft"\nSN2,A930,plain\n');
    expect(r.errors).toEqual([]);
    expect(r.rows).toEqual([
      { line: 2, serial: 'SN1', model: 'A920', labels: { note: 'back office,\nshelf "B"\nleft' } },
      { line: 5, serial: 'SN2', model: 'A930', labels: { note: 'plain' } },
    ]);
  });

  it('reports an error on the right line after a multi-line field, in LF and in CRLF files', () => {
    for (const nl of ['\n', '\r\n']) {
      const text = ['serial,model,note', 'SN1,A920,"one', 'two', 'three"', 'bad serial,A920,x', '', 'SN3,bad;model,"a', 'b"', 'SN4,A920,'].join(nl);
      const r = parseDeviceCsv(text);
      expect(r.rows.map((x) => [x.line, x.serial])).toEqual([
        [2, 'SN1'],
        [9, 'SN4'],
      ]);
      expect(r.rows[0]!.labels.note).toBe(['one', 'two', 'three'].join(nl));
      expect(r.errors).toEqual([
        { line: 5, message: 'bad serial "bad serial"' },
        { line: 7, message: 'bad model "bad;model"' },
      ]);
    }
  });

  it('a quote never closed keeps the rows before it and names where it opened', () => {
    const r = parseDeviceCsv('serial,model\nSN1,A920\nSN2,"A920\nSN3,A920\n');
    expect(r.rows.map((x) => x.serial)).toEqual(['SN1']);
    expect(r.errors).toEqual([{ line: 3, message: 'a quoted field opened after line 2 is never closed; the rest was not read' }]);
  });

  it('a syntax error after a CRLF multi-line field is reported at its own line', () => {
    const r = parseDeviceCsv('serial,model,note\r\nSN1,A920,"a\r\nb"\r\nSN2,A920,"x"y\r\nSN3,A920,z\r\n');
    expect(r.rows.map((x) => x.serial)).toEqual(['SN1']);
    expect(r.errors).toEqual([{ line: 4, message: expect.stringMatching(/^Invalid Closing Quote: .*; the rest was not read$/) }]);
  });

  it('keeps a stray quote inside an unquoted cell as a character', () => {
    const r = parseDeviceCsv('serial,model,note\nSN1,A920,12" screen\n');
    expect(r.errors).toEqual([]);
    expect(r.rows[0]!.labels).toEqual({ note: '12" screen' });
  });

  it('refuses a lone surrogate, which reading as UTF-8 would turn into U+FFFD, naming its line', () => {
    expect(() => parseDeviceCsv('serial,model,note\nSN1,A920,ok\nSN2,A920,x\ud800y\n')).toThrow(
      expect.objectContaining({ details: [{ path: 'line 3', message: 'contains a lone surrogate U+D800, which cannot be stored' }] }),
    );
  });

  it('names a NUL inside a multi-line field by the line its record starts on', () => {
    expect(() => parseDeviceCsv('serial,model,note\nSN1,A920,"a\nb\u0000"\n')).toThrow(
      expect.objectContaining({ details: [{ path: 'line 2.note', message: 'contains U+0000 (NUL), which cannot be stored' }] }),
    );
  });
});
