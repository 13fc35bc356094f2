// The fleet overview's pure parts, without a browser: counts ranked for the bar lists, a bar's
// width and share, a campaign's progress, and which live events reload which part.
import { describe, expect, it } from 'vitest';
import { campaignStates } from '../../schemas/tables/campaigns.ts';
import {
  barWidth,
  campaignProgress,
  devicesHref,
  isCampaignChange,
  isFaultChange,
  isFleetChange,
  isInProgress,
  ranked,
  SEVERITIES_WORST_FIRST,
  shareText,
} from '../../client/console/views/overview/overviewData.ts';

describe('overview bars', () => {
  it('ranks counts largest first and lists severities worst first', () => {
    expect(ranked({ '1.0.0': 2, '2.1.0': 7, '1.5.0': 3 })).toEqual([
      ['2.1.0', 7],
      ['1.5.0', 3],
      ['1.0.0', 2],
    ]);
    expect(SEVERITIES_WORST_FIRST).toEqual(['critical', 'major', 'warning', 'info']);
  });

  it('scales a bar to the largest, keeps a non-zero count visible, and states its share only with a total', () => {
    expect(barWidth(5, 10)).toBe(50);
    expect(barWidth(1, 10_000)).toBe(2);
    expect(barWidth(0, 10)).toBe(0);
    expect(barWidth(0, 0)).toBe(0);
    expect(shareText(1, 3)).toBe(' (33%)');
    expect(shareText(4, 0)).toBe('');
  });

  it('links to the device list with the filter in the address', () => {
    expect(devicesHref({ fwVersion: '2.1.0 beta' })).toBe('/ui/devices?fwVersion=2.1.0+beta');
  });
});

describe('overview campaigns', () => {
  it('counts terminals succeeded out of the phases totals', () => {
    const phases = [{ total: 2 }, { total: 4 }].map((p) => ({ ...phase, ...p }));
    expect(campaignProgress({ phases, counts: { succeeded: 3, downloading: 1 } })).toEqual({ done: 3, total: 6, percent: 50 });
    expect(campaignProgress({ phases: [], counts: {} })).toEqual({ done: 0, total: 0, percent: 0 });
  });

  it('shows running and paused campaigns only', () => {
    expect(campaignStates.filter((state) => isInProgress({ state }))).toEqual(['running', 'paused']);
  });
});

describe('overview live events', () => {
  it('reloads each part on the events that change it, and every part when the stream resumes', () => {
    expect(['device.presence', 'device.enrolled', 'device.revoked', 'fault.opened', 'stream.resumed'].filter(isFleetChange)).toEqual([
      'device.presence',
      'device.enrolled',
      'device.revoked',
      'stream.resumed',
    ]);
    expect(['fault.opened', 'fault.resolved', 'device.presence', 'stream.resumed'].filter(isFaultChange)).toEqual([
      'fault.opened',
      'fault.resolved',
      'stream.resumed',
    ]);
    expect(['campaign.updated', 'campaign.device', 'command.updated', 'stream.resumed'].filter(isCampaignChange)).toEqual([
      'campaign.updated',
      'campaign.device',
      'stream.resumed',
    ]);
  });
});

const phase = {
  index: 0,
  name: 'All',
  percent: 100,
  started: true,
  startedAt: null,
  devices: 0,
  counts: {},
  total: 0,
  succeeded: 0,
  errors: 0,
  passed: false,
  overErrorThreshold: false,
};
