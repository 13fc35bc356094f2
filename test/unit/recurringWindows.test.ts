import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { RecurringWindow } from '../../schemas/maintenance.ts';
import { minutesInWindow } from '../../server/campaigns/campaignRules.ts';
import { governingWindows, inRecurringWindowAt, inRecurringWindows, localWeekTime, type WindowsByScope } from '../../server/campaigns/recurringWindows.ts';

const w = (days: number[], start: string, end: string): RecurringWindow => ({ days, start, end });
const nights = w([1, 2, 3, 4, 5], '22:00', '04:00');

describe('inRecurringWindowAt', () => {
  it('counts the hours after midnight to the day the window opened', () => {
    expect(inRecurringWindowAt(nights, 1, 23 * 60)).toBe(true); // Monday 23:00
    expect(inRecurringWindowAt(nights, 2, 3 * 60)).toBe(true); // Tuesday 03:00: Monday's window
    expect(inRecurringWindowAt(nights, 1, 3 * 60)).toBe(false); // Monday 03:00: Sunday's, not set
    expect(inRecurringWindowAt(nights, 6, 3 * 60)).toBe(true); // Saturday 03:00: Friday's
    expect(inRecurringWindowAt(nights, 6, 23 * 60)).toBe(false); // Saturday 23:00
    expect(inRecurringWindowAt(nights, 3, 12 * 60)).toBe(false); // midday
  });

  it('with every day set, is the daily window', () => {
    const hhmm = fc.tuple(fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 59 })).map(([h, m]) => `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}`);
    fc.assert(
      fc.property(hhmm, hhmm, fc.integer({ min: 1, max: 7 }), fc.integer({ min: 0, max: 1439 }), (start, end, day, minutes) => {
        const daily = { start, end };
        expect(inRecurringWindowAt({ ...daily, days: [1, 2, 3, 4, 5, 6, 7] }, day, minutes)).toBe(minutesInWindow(minutes, daily));
      }),
    );
  });
});

describe('localWeekTime and inRecurringWindows', () => {
  // 2026-12-07 is a Monday; 21:30 UTC is 22:30 in Amsterdam (CET) and 16:30 in New York (EST).
  const mondayEvening = Date.UTC(2026, 11, 7, 21, 30);
  it('reads the weekday and time in the terminal\'s zone', () => {
    expect(localWeekTime(mondayEvening, 'Europe/Amsterdam')).toEqual({ day: 1, minutes: 22 * 60 + 30 });
    expect(localWeekTime(mondayEvening, 'Asia/Shanghai')).toEqual({ day: 2, minutes: 5 * 60 + 30 });
    expect(localWeekTime(mondayEvening, 'Not/AZone')).toBeNull();
  });
  it('serves inside any of the windows, anywhere without windows or a known zone', () => {
    expect(inRecurringWindows([nights], 'Europe/Amsterdam', mondayEvening)).toBe(true);
    expect(inRecurringWindows([nights], 'America/New_York', mondayEvening)).toBe(false);
    expect(inRecurringWindows([nights, w([1], '16:00', '17:00')], 'America/New_York', mondayEvening)).toBe(true);
    expect(inRecurringWindows(undefined, 'America/New_York', mondayEvening)).toBe(true);
    expect(inRecurringWindows([nights], undefined, mondayEvening)).toBe(true);
  });
});

describe('governingWindows', () => {
  const a = [w([1], '01:00', '02:00')];
  const b = [w([2], '01:00', '02:00')];
  const c = [w([3], '01:00', '02:00')];
  const d = [w([4], '01:00', '02:00')];
  const windows: WindowsByScope = {
    merchant: new Map([['mer_1', a]]),
    group: new Map([['grp_1', b], ['grp_2', c]]),
    org: new Map([['org_root', d], ['org_a', c]]),
  };
  it('takes the merchant\'s, else the groups\', else the nearest organisation\'s', () => {
    expect(governingWindows({ merchantId: 'mer_1', groupIds: ['grp_1'], orgPath: '/org_root/org_a/' }, windows)).toBe(a);
    expect(governingWindows({ merchantId: 'mer_2', groupIds: ['grp_1', 'grp_2'], orgPath: '/org_root/' }, windows)).toEqual([...b, ...c]);
    expect(governingWindows({ merchantId: null, groupIds: [], orgPath: '/org_root/org_a/org_b/' }, windows)).toBe(c);
    expect(governingWindows({ merchantId: null, groupIds: [], orgPath: '/org_root/org_x/' }, windows)).toBe(d);
    expect(governingWindows({ merchantId: null, groupIds: [], orgPath: null }, windows)).toBeUndefined();
  });
});
