import { describe, expect, it } from 'vitest';
import { healthSample } from '../../schemas/wire.ts';
import { readAll } from '../../agent/hardware.ts';
import { createSimulatedHardware } from '../../agent/simulatedHardware.ts';
import { otaPlatformOf } from '../../agent/ota/otaPlatform.ts';

function clocked(seed: number) {
  let t = 1_700_000_000_000;
  const hw = createSimulatedHardware({ seed, now: () => t, sleep: async () => undefined });
  return { hw, advance: (s: number) => (t += s * 1000), now: () => t };
}

function trace(seed: number, hours: number, everyS: number) {
  const { hw, advance, now } = clocked(seed);
  const out = [];
  for (let s = 0; s < hours * 3600; s += everyS) {
    advance(everyS);
    out.push({ ts: now(), seq: out.length, ...readAll(hw) });
  }
  return out;
}

describe('simulated hardware', () => {
  it('is deterministic for a seed, and differs between seeds', () => {
    expect(trace(7, 2, 60)).toEqual(trace(7, 2, 60));
    expect(trace(7, 2, 60)).not.toEqual(trace(8, 2, 60));
  });

  it('does not depend on how often it is read', () => {
    const often = trace(3, 1, 5).at(-1);
    const rarely = trace(3, 1, 600).at(-1);
    expect(rarely?.battery).toEqual(often?.battery);
    expect(rarely?.temperatureC).toEqual(often?.temperatureC);
  });

  it('keeps readings in range and every sample passes the wire schema', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      for (const sample of trace(seed, 48, 300)) {
        const parsed = healthSample.parse(sample);
        expect(parsed.battery!.level).toBeGreaterThanOrEqual(0);
        expect(parsed.battery!.level).toBeLessThanOrEqual(100);
        expect(parsed.temperatureC).toBeGreaterThan(20);
        expect(parsed.temperatureC).toBeLessThan(55);
        expect(parsed.storage!.freeMb).toBeLessThanOrEqual(parsed.storage!.totalMb);
      }
    }
  });

  it('drifts: battery drains unplugged and charges plugged, paper runs low, temperature walks', () => {
    const samples = [1, 2, 3, 4, 5, 6].flatMap((seed) => trace(seed, 24, 60));
    const levels = new Set(samples.map((s) => Math.round(s.battery!.level)));
    expect(levels.size).toBeGreaterThan(20);
    expect(samples.some((s) => s.battery!.charging)).toBe(true);
    expect(samples.some((s) => !s.battery!.charging)).toBe(true);
    expect(new Set(samples.map((s) => s.printer!.status)).size).toBeGreaterThan(1);
    expect(new Set(samples.map((s) => s.temperatureC)).size).toBeGreaterThan(50);
    expect(new Set(samples.map((s) => s.signal!.rssi)).size).toBeGreaterThan(10);
  });

  it('charging warms the terminal', () => {
    const samples = [11, 12, 13, 14].flatMap((seed) => trace(seed, 24, 60));
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const charging = mean(samples.filter((s) => s.battery!.charging).map((s) => s.temperatureC!));
    const onBattery = mean(samples.filter((s) => !s.battery!.charging).map((s) => s.temperatureC!));
    expect(charging).toBeGreaterThan(onBattery + 1);
  });

  it('fault knobs force the condition and clearing restores it', async () => {
    const { hw, advance } = clocked(9);
    hw.inject('batteryLow');
    hw.inject('paperOut');
    hw.inject('readerError');
    for (let i = 0; i < 100; i++) {
      advance(60);
      const b = hw.readBattery();
      expect(b.level).toBeLessThan(15);
      expect(b.charging).toBe(false);
      expect(hw.readPrinter().status).toBe('paper_out');
      expect(hw.readCardReaders().icc).toBe('error');
    }
    expect((await hw.selfTest('printer')).status).toBe('fail');
    expect((await hw.selfTest('cardReader')).status).toBe('fail');
    hw.clear('paperOut');
    hw.clear('readerError');
    expect(hw.readPrinter().status).toBe('ok');
    expect((await hw.selfTest('cardReader')).status).toBe('pass');
  });

  it('reports tamper immediately to listeners and latches it', () => {
    const { hw, advance } = clocked(5);
    let calls = 0;
    hw.onTamper?.(() => calls++);
    expect(hw.readTamper()).toBe(false);
    hw.inject('tamper');
    expect(calls).toBe(1);
    advance(3600);
    expect(hw.readTamper()).toBe(true);
  });

  it('plays OTA faults through the OTA platform it carries; other hardware gets the plain platform', async () => {
    const { hw } = clocked(5);
    const { ota: simulated, ...plainHardware } = hw;
    const platform = otaPlatformOf(hw);
    expect(platform).toBe(simulated);
    hw.ota.inject({ busyChecks: 2, selftestFail: true });
    expect([platform.busy(), platform.busy(), platform.busy()]).toEqual(['busy', 'busy', null]);
    expect(await platform.selfTest()).toEqual({ status: 'fail', detail: 'injected' });
    hw.ota.faults.selftestFail = false;
    expect(await platform.selfTest()).toEqual({ status: 'pass' });

    const plain = otaPlatformOf(plainHardware);
    hw.ota.inject({ busyChecks: 1, selftestFail: true });
    expect(plain.busy()).toBeNull();
    expect(await plain.selfTest()).toEqual({ status: 'pass' });
  });
});
