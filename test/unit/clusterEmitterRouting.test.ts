// Which topics cross instances in cluster mode, and on which bus a subscription listens: the
// routing of server/broker/clusterEmitter.ts without a broker or Redis.
import { describe, expect, it } from 'vitest';
import { topicFor } from '../../schemas/wire.ts';
import { crossesInstances, filtersOverlap, staysLocal } from '../../server/broker/clusterRouting.ts';

describe('cluster routing of concrete topics', () => {
  it('sends commands and takeover notices across instances', () => {
    expect(crossesInstances(topicFor('dev_a1', 'cmd'))).toBe(true);
    expect(crossesInstances('$SYS/instance-2/new/clients')).toBe(true);
  });

  it('keeps telemetry, aedes notices other than takeover, and dropped and ingested messages local', () => {
    for (const kind of ['state', 'health', 'event', 'ack'] as const) expect(crossesInstances(topicFor('dev_a1', kind))).toBe(false);
    for (const t of ['$SYS/instance-2/heartbeat', '$SYS/instance-2/birth', '$SYS/instance-2/disconnect/clients', '$posfleet/dropped', '$posfleet/ingested'])
      expect(crossesInstances(t)).toBe(false);
  });

  it('keeps lookalikes of command topics local', () => {
    for (const t of [
      'fleet/v1/dev_a1/cmd/x',
      'fleet/v1/cmd',
      'fleet/v2/dev_a1/cmd',
      'x/fleet/v1/dev_a1/cmd',
      '$SYS/b/new/clients/x',
      '$SYS/new/clients',
    ])
      expect(crossesInstances(t), t).toBe(false);
  });

  it('puts every concrete topic on exactly one bus', () => {
    for (const t of [topicFor('d', 'cmd'), topicFor('d', 'health'), '$SYS/b/new/clients', '$SYS/b/heartbeat', 'fleet/v1//cmd', 'a'])
      expect(staysLocal(t), t).toBe(!crossesInstances(t));
  });
});

describe('cluster routing of subscriptions', () => {
  it('listens for a device command topic and aedes takeover notices across instances only', () => {
    for (const f of [topicFor('dev_a1', 'cmd'), 'fleet/v1/+/cmd', '$SYS/+/new/clients']) {
      expect(crossesInstances(f), f).toBe(true);
      expect(staysLocal(f), f).toBe(false);
    }
  });

  it("listens for aedes' heartbeat and birth in this instance only", () => {
    for (const f of ['$SYS/+/heartbeat', '$SYS/+/birth', 'fleet/v1/+/health']) {
      expect(crossesInstances(f), f).toBe(false);
      expect(staysLocal(f), f).toBe(true);
    }
  });

  it('listens on both buses for a filter that matches commands and local topics', () => {
    for (const f of [
      '#',
      '+/v1/+/cmd',
      'fleet/#',
      'fleet/v1/dev_a1/+',
      'fleet/v1/+/+',
      '$SYS/#',
      '$SYS/+/+/clients',
      'fleet/v1/dev_a1/cmd/#',
    ]) {
      expect(crossesInstances(f), f).toBe(true);
      expect(staysLocal(f), f).toBe(true);
    }
  });
});

describe('filter overlap', () => {
  it('matches as mqemitter does: + one level (empty too), # the rest (none too)', () => {
    expect(filtersOverlap('a/+/c', 'a/b/c')).toBe(true);
    expect(filtersOverlap('a/+/c', 'a//c')).toBe(true);
    expect(filtersOverlap('a/+/c', 'a/b/c/d')).toBe(false);
    expect(filtersOverlap('a/#', 'a')).toBe(true);
    expect(filtersOverlap('a/#', 'a/b/c')).toBe(true);
    expect(filtersOverlap('a/b', 'a/c')).toBe(false);
    expect(filtersOverlap('+/b', 'a/+')).toBe(true);
  });
});
