// The CLI's pure parts without a server: global options wherever they stand, credential
// precedence, the watch's progress line, tables, --label clauses and the error line per outcome.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ApiError } from '../../client/apiClient.ts';
import { progressOf, type WatchedView } from '../../cli/commands/campaignProgress.ts';
import { labelClauses } from '../../cli/commands/devices.ts';
import { OutcomeError, reportOf, UsageError } from '../../cli/errors.ts';
import { formatTable, progressBar } from '../../cli/output.ts';
import { splitGlobals } from '../../cli/globals.ts';
import { DEFAULT_URL, resolveCredentials, type ProfileFile } from '../../cli/profile.ts';

describe('splitGlobals', () => {
  it('takes --json, --profile and --help off the line anywhere before --', () => {
    expect(splitGlobals(['devices', '--json', 'list', '--profile', 'ops', '--model', 'X'])).toEqual({
      json: true,
      help: false,
      profile: 'ops',
      rest: ['devices', 'list', '--model', 'X'],
    });
    expect(splitGlobals(['--profile=prod', 'faults', 'list', '-h'])).toMatchObject({
      profile: 'prod',
      help: true,
      rest: ['faults', 'list'],
    });
    expect(splitGlobals(['devices', 'list', '--', '--json'])).toMatchObject({ json: false, rest: ['devices', 'list', '--', '--json'] });
    expect(() => splitGlobals(['--profile'])).toThrow(UsageError);
  });
});

describe('resolveCredentials', () => {
  const file: ProfileFile = {
    default: 'a',
    profiles: { a: { url: 'http://a:1', token: 'ta' }, b: { url: 'http://b:2', token: 'tb' } },
  };
  it('--profile wins over the environment; the environment over the default profile', () => {
    expect(resolveCredentials({ POSFLEET_TOKEN: 'te', POSFLEET_URL: 'http://e:3' }, 'b', file)).toEqual({
      url: 'http://b:2',
      token: 'tb',
      source: 'profile b',
    });
    expect(resolveCredentials({ POSFLEET_TOKEN: 'te' }, undefined, file)).toEqual({
      url: 'http://a:1',
      token: 'te',
      source: 'POSFLEET_TOKEN',
    });
    expect(resolveCredentials({ POSFLEET_URL: 'http://e:3' }, undefined, file)).toEqual({
      url: 'http://e:3',
      token: 'ta',
      source: 'profile a',
    });
    expect(resolveCredentials({ POSFLEET_PROFILE: 'b' }, undefined, file)).toMatchObject({ token: 'tb' });
    expect(resolveCredentials({}, undefined, { default: null, profiles: {} })).toEqual({ url: DEFAULT_URL, token: null, source: 'none' });
  });
  it('a profile named but absent is a usage error', () => {
    expect(() => resolveCredentials({}, 'zz', file)).toThrow(UsageError);
    expect(() => resolveCredentials({ POSFLEET_PROFILE: 'zz' }, undefined, file)).toThrow(UsageError);
  });
});

describe('progressOf', () => {
  const view = (state: string, counts: Record<string, number>, started = [true, false]): WatchedView => ({
    id: 'cmp_x',
    state,
    pausedReason: null,
    rollingBack: false,
    counts,
    phases: started.map((s, index) => ({ index, name: index ? 'rest' : 'canary', started: s })),
  });
  it('counts final members, successes and errors; names the phase that runs', () => {
    const p = progressOf(view('running', { succeeded: 2, failed: 1, timed_out: 1, downloading: 3, pending: 3 }), false);
    expect(p).toMatchObject({ total: 10, final: 4, succeeded: 2, errors: 2, done: false });
    expect(p.text).toBe('running phase 1/2 (canary): 4/10 final, 2 succeeded, 2 failed');
    expect(progressOf(view('succeeded', { succeeded: 10 }, [true, true]), true).text).toBe(
      `${progressBar(10, 10)} succeeded phase 2/2 (rest): 10/10 final, 10 succeeded, 0 failed`,
    );
    expect(progressOf({ ...view('paused', { failed: 1 }), pausedReason: 'error_threshold' }, false).text).toContain(
      '(paused: error_threshold)',
    );
    for (const s of ['succeeded', 'failed', 'cancelled']) expect(progressOf(view(s, {}), false).done).toBe(true);
    for (const s of ['draft', 'running', 'paused']) expect(progressOf(view(s, {}), false).done).toBe(false);
  });
  it('the bar never overflows and grows with the final share', () => {
    fc.assert(
      fc.property(fc.nat(1000), fc.nat(1000), (a, b) => {
        const [done, total] = a <= b ? [a, b] : [b, a];
        const bar = progressBar(done, total, 20);
        expect(bar).toMatch(/^\[[#-]{20}\]\s+\d{1,3}%$/);
        expect(bar.split('#').length - 1).toBe(total ? Math.round((done / total) * 20) : 0);
      }),
    );
  });
});

describe('formatTable', () => {
  it('pads every column but the last to its widest cell; empty cells are -', () => {
    const rows = [
      { a: 'x', b: 1, c: null },
      { a: 'longer', b: 22, c: 'end' },
    ];
    expect(
      formatTable(rows, [
        { header: 'a', value: (r) => r.a },
        { header: 'bee', value: (r) => r.b },
        { header: 'c', value: (r) => r.c },
      ]),
    ).toEqual(['A       BEE  C', 'x       1    -', 'longer  22   end']);
  });
});

describe('labelClauses', () => {
  it('quotes values as query-language strings and refuses a pair without a key', () => {
    expect(labelClauses(['region=eu-west', 'note=a "b"'])).toEqual(['label.region = "eu-west"', 'label.note = "a \\"b\\""']);
    expect(() => labelClauses(['=x'])).toThrow(UsageError);
    expect(() => labelClauses(['novalue'])).toThrow(UsageError);
  });
});

describe('reportOf', () => {
  it('one line and one exit code per kind of error', () => {
    expect(reportOf(new ApiError(409, 'device_busy', '3 devices are in another active ota campaign'))).toEqual({
      line: 'error: device_busy (409): 3 devices are in another active ota campaign',
      code: 3,
    });
    expect(reportOf(new ApiError(0, 'network', 'The server at http://x cannot be reached.'))).toEqual({
      line: 'error: network: The server at http://x cannot be reached.',
      code: 3,
    });
    expect(reportOf(new UsageError('posfleet devices get <id>'))).toEqual({ line: 'usage: posfleet devices get <id>', code: 2 });
    expect(reportOf(new OutcomeError('rollout cmp_x failed', 1))).toEqual({ line: 'rollout cmp_x failed', code: 1 });
  });
});
