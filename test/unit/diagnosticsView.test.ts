// diagnosticsView: a stored diag.run result as the API shows it. The result is whatever the
// terminal acked, so the view keeps only component verdicts that are text and details that are an object.
import { describe, expect, it } from 'vitest';
import type { DiagnosticsRow } from '../../schemas/tables/faults.ts';
import { diagnosticsView } from '../../server/faults/diagnostics.ts';

const row = (result: DiagnosticsRow['result']): DiagnosticsRow => ({
  cmdId: 'cmd_1',
  deviceId: 'dev_1',
  state: 'succeeded',
  requestedBy: 'usr_1',
  requestedAt: new Date('2026-01-01T00:00:00Z'),
  finishedAt: new Date('2026-01-01T00:00:05Z'),
  result,
  error: null,
  updatedAt: new Date('2026-01-01T00:00:05Z'),
});

describe('diagnosticsView', () => {
  it('shows each component verdict and the details, passed only when every tested component passed', () => {
    const v = diagnosticsView(row({ printer: 'pass', network: 'fail', details: { network: 'broker unreachable' } }));
    expect(v).toMatchObject({
      components: { printer: 'pass', network: 'fail' },
      details: { network: 'broker unreachable' },
      passed: false,
    });
    expect(diagnosticsView(row({ printer: 'pass', storage: 'pass' })).passed).toBe(true);
  });

  it('drops verdicts that are not text and details that are not an object; no result yet is passed: null', () => {
    const v = diagnosticsView(row({ printer: 1, cardReader: 'pass', unknownPart: 'fail', details: 'nope' }));
    expect(v.components).toEqual({ cardReader: 'pass' });
    expect(v.details).toEqual({});
    expect(diagnosticsView(row({ details: null })).details).toEqual({});
    expect(diagnosticsView(row(null))).toMatchObject({ components: {}, details: {}, passed: null });
  });
});
