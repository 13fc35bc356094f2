// The pure parts behind the demo and trust updates: port memory, the fleet report, the next
// demo version, publisher fingerprints and when the server sends trust.set, broker rotation.
import { describe, expect, it } from 'vitest';
import { createBrokerRotation } from '../../agent/brokerRotation.ts';
import { applyTrust, brokerCandidates, trustReportOf } from '../../agent/trust.ts';
import type { Enrollment } from '../../agent/schemas.ts';
import { brokersFingerprint, publishersFingerprint, trustSetPayload } from '../../schemas/deviceTrust.ts';
import { fleetReport } from '../../scripts/demo/fleetWait.ts';
import { choosePort } from '../../scripts/demo/ports.ts';
import { withDemoPublisher } from '../../scripts/demo/publisher.ts';
import { nextDemoVersion } from '../../scripts/demo/sampleImage.ts';
import { generatePublisherKey } from '../../scripts/sign-firmware.ts';
import { trustUpdate } from '../../server/trust/trustPolicy.ts';

const free = true;
const taken = false;

describe('demo port memory', () => {
  it('takes the port set in the environment, whatever is remembered', () => {
    expect(choosePort('MQTT_PORT', '1999', 41000, taken)).toEqual({ port: 1999, why: 'set' });
  });
  it('reuses a remembered port that is free', () => {
    expect(choosePort('MQTT_PORT', undefined, 41000, free)).toEqual({ port: 41000, why: 'remembered' });
  });
  it('takes any free port when the remembered one is taken', () => {
    expect(choosePort('MQTT_PORT', undefined, 41000, taken)).toEqual({ port: 0, why: 'remembered_taken' });
  });
  it('starts on the default port, or any free one when the default is taken', () => {
    expect(choosePort('MQTT_PORT', undefined, undefined, free)).toEqual({ port: 1883, why: 'default' });
    expect(choosePort('HTTP_PORT', '', undefined, taken)).toEqual({ port: 0, why: 'default_taken' });
  });
});

describe('demo fleet report', () => {
  it('says online only when every terminal is connected', () => {
    expect(fleetReport({ total: 5, enrolled: 5, connected: 5, failed: 0 }, {}, 'mqtt://h:1')).toEqual({
      ok: true,
      line: 'fleet online: 5 of 5 terminals connected',
    });
  });
  it('names the failures when some are missing', () => {
    const r = fleetReport({ total: 5, enrolled: 5, connected: 3, failed: 2 }, { 'connect: not authorized': 2 }, 'mqtt://h:1');
    expect(r.ok).toBe(true);
    expect(r.line).toBe('fleet partly online: 3 of 5 terminals connected, 2 not (failed: 2 × connect: not authorized)');
  });
  it('is an error with nothing connected, naming the broker', () => {
    const r = fleetReport({ total: 5, enrolled: 5, connected: 0, failed: 0 }, {}, 'mqtt://127.0.0.1:41000');
    expect(r.ok).toBe(false);
    expect(r.line).toMatch(/^no terminal connected to mqtt:\/\/127\.0\.0\.1:41000 \(5 of 5 enrolled\)/);
  });
});

describe('demo sample image version', () => {
  it('is one patch above the newest plain version the fleet runs', () => {
    expect(nextDemoVersion(['1.0.0', '1.0.10', '1.0.9', '0.9.99'])).toBe('1.0.11');
    expect(nextDemoVersion(['2.1.0', '1.9.5'])).toBe('2.1.1');
    expect(nextDemoVersion(['unknown', '3.0.0-rc.1'])).toBe('1.0.1');
  });
});

describe('publisher keys', () => {
  const a = generatePublisherKey().publicKeyBase64;
  const b = generatePublisherKey().publicKeyBase64;

  it('the demo key joins the configured keys once', () => {
    expect(withDemoPublisher(undefined, a)).toBe(a);
    expect(withDemoPublisher(` ${b} ,${a}`, a)).toBe(`${b},${a}`);
  });
  it('a publisher set fingerprint ignores order and repeats; a broker list fingerprint does not', () => {
    expect(publishersFingerprint([a, b])).toBe(publishersFingerprint([b, a, b]));
    expect(publishersFingerprint([a])).not.toBe(publishersFingerprint([a, b]));
    expect(publishersFingerprint([])).not.toBe(publishersFingerprint([a]));
    expect(brokersFingerprint(['mqtt://x:1', 'mqtt://y:1'])).not.toBe(brokersFingerprint(['mqtt://y:1', 'mqtt://x:1']));
  });
  it('trust.set refuses a key that is not a raw Ed25519 key and an empty update', () => {
    expect(trustSetPayload.safeParse({ firmwarePublishers: [a, 'bm90IGEga2V5'] }).success).toBe(false);
    expect(trustSetPayload.safeParse({ brokerUrls: ['http://x'] }).success).toBe(false);
    expect(trustSetPayload.safeParse({}).success).toBe(false);
    expect(trustSetPayload.safeParse({ firmwarePublishers: [a], brokerUrls: ['mqtts://x:8883'] }).success).toBe(true);
  });
});

describe('when the server sends trust.set', () => {
  const [a, b] = [generatePublisherKey().publicKeyBase64, generatePublisherKey().publicKeyBase64];
  const wanted = { firmwarePublishers: [a, b], brokerUrls: ['mqtt://new:1883', 'mqtt://old:1883'] };
  const matching = { publishers: publishersFingerprint([b, a]), brokers: brokersFingerprint(wanted.brokerUrls) };

  it('not when both fingerprints match', () => {
    expect(trustUpdate(matching, wanted)).toBeNull();
  });
  it('not to an agent that reports no fingerprints (it predates trust.set)', () => {
    expect(trustUpdate(undefined, wanted)).toBeNull();
  });
  it('the publisher keys after a key was added (rotation, step one) or removed (step two)', () => {
    expect(trustUpdate({ ...matching, publishers: publishersFingerprint([a]) }, wanted)).toEqual({ firmwarePublishers: [a, b] });
    expect(trustUpdate(matching, { ...wanted, firmwarePublishers: [b] })).toEqual({ firmwarePublishers: [b] });
  });
  it('not an empty key list: a server without keys leaves the terminals’ keys alone', () => {
    expect(trustUpdate(matching, { ...wanted, firmwarePublishers: [] })).toBeNull();
  });
  it('the broker list when its order or content differs, with the keys when both do', () => {
    expect(trustUpdate({ ...matching, brokers: brokersFingerprint(['mqtt://old:1883', 'mqtt://new:1883']) }, wanted)).toEqual({
      brokerUrls: wanted.brokerUrls,
    });
    expect(trustUpdate({}, wanted)).toEqual(wanted);
  });
});

describe('the agent side of trust', () => {
  const enrollment: Enrollment = {
    deviceId: 'dev_1',
    mqtt: { url: 'mqtt://old:1883', username: 'dev_1', password: 'p' },
    trust: { firmwarePublishers: [], bindingKey: '' },
    serial: 'S1',
    model: 'M',
    server: 'http://x',
    enrolledAt: 1,
  };
  const key = generatePublisherKey().publicKeyBase64;

  it('reports what the server compares, and a trust.set changes only the lists it carries', () => {
    const next = applyTrust(enrollment, { firmwarePublishers: [key] });
    expect(next.brokerUrls).toBeUndefined();
    expect(trustReportOf(next)).toEqual({ publishers: publishersFingerprint([key]), brokers: brokersFingerprint(['mqtt://old:1883']) });
    const moved = applyTrust(next, { brokerUrls: ['mqtt://new:1883', 'mqtt://old:1883'] });
    expect(moved.trust.firmwarePublishers).toEqual([key]);
    expect(brokerCandidates(moved)).toEqual(['mqtt://new:1883', 'mqtt://old:1883']);
  });
  it('tries a local override first, each URL once', () => {
    expect(brokerCandidates(enrollment, 'mqtt://old:1883')).toEqual(['mqtt://old:1883']);
    expect(brokerCandidates(enrollment, 'mqtt://here:2000')).toEqual(['mqtt://here:2000', 'mqtt://old:1883']);
  });
});

/** One step of a connection attempt's story: the URL `next()` must pick, or how the attempt ended. */
type RotationStep = { next: string } | 'failed' | 'succeeded';
const next = (url: string): RotationStep => ({ next: url });

describe('broker rotation', () => {
  it.each<[string, RotationStep[]]>([
    ['stays on a URL after one failure, moves on after two, wraps round', [next('a'), 'failed', next('a'), 'failed', next('b'), 'failed', 'failed', next('a')]],
    ['keeps the URL that worked after a drop', [next('a'), 'failed', 'failed', next('b'), 'succeeded', 'failed', next('b')]],
  ])('%s', (_name, steps) => {
    const r = createBrokerRotation(() => ['a', 'b']);
    for (const step of steps) {
      if (step === 'failed') r.failed();
      else if (step === 'succeeded') r.succeeded();
      else expect(r.next()).toBe(step.next);
    }
  });
  it('starts at the primary of a new list that lacks the URL in use', () => {
    let list = ['a'];
    const r = createBrokerRotation(() => list);
    expect(r.next()).toBe('a');
    list = ['c', 'd'];
    expect(r.next()).toBe('c');
  });
});
