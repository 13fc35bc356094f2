// The relocation rule (SPEC §6), pure: distance with accuracy, N consecutive fixes, exemptions.
import { describe, expect, it } from 'vitest';
import { assessFix, classifyFix, distanceM, freshTrack, type Fence, type GeoRule, type GeoTrack } from '../../server/merchants/geofence.ts';

const shop: Fence = { lat: 31.2304, lon: 121.4737, radiusM: 200 };
const rule: GeoRule = { fixesToRelocate: 3, maxAccuracyM: 5000 };
const far = { lat: 31.3, lon: 121.6, accuracyM: 20 };
const near = { lat: 31.231, lon: 121.474, accuracyM: 10 };

function run(fixes: (typeof far | undefined)[], exempt = false, r = rule) {
  let track: GeoTrack = freshTrack();
  return fixes.map((f) => {
    const a = assessFix(track, shop, f, r, exempt);
    track = a.track;
    return a.outcome;
  });
}

describe('geofence distance', () => {
  it('measures great-circle distance', () => {
    expect(distanceM({ lat: 0, lon: 0 }, { lat: 0, lon: 1 })).toBeCloseTo(111_195, -2);
    expect(distanceM(shop, shop)).toBe(0);
  });

  it('wraps at the antimeridian: 179.999° and -179.999° are neighbours', () => {
    const d = distanceM({ lat: -17.7, lon: 179.999 }, { lat: -17.7, lon: -179.999 });
    expect(d).toBeLessThan(300);
    const fiji: Fence = { lat: -17.7, lon: 179.999, radiusM: 500 };
    expect(classifyFix(fiji, { lat: -17.7, lon: -179.999, accuracyM: 10 }).verdict).toBe('inside');
    expect(classifyFix(fiji, { lat: -17.7, lon: -179.9, accuracyM: 10 }).verdict).toBe('outside');
  });

  it("counts a fix's accuracy in its favour: out only beyond radius + accuracy", () => {
    // ~1 km away: outside with a 20 m fix, inside with a 1.5 km fix.
    const p = { lat: shop.lat + 0.009, lon: shop.lon };
    expect(classifyFix(shop, { ...p, accuracyM: 20 }).verdict).toBe('outside');
    expect(classifyFix(shop, { ...p, accuracyM: 1500 }).verdict).toBe('inside');
  });

  it('treats a very poor fix as inconclusive and a missing one as no fix', () => {
    expect(classifyFix(shop, { ...far, accuracyM: 20_000 }).verdict).toBe('inconclusive');
    expect(classifyFix(shop, undefined).verdict).toBe('no_fix');
  });
});

describe('relocation rule', () => {
  it('warns on the first out-of-fence fix and relocates on the Nth in a row', () => {
    expect(run([far, far, far, far])).toEqual(['warning', 'warning', 'relocated', 'none']);
  });

  it('a fix inside the fence breaks the run', () => {
    expect(run([far, far, near, far, far, far])).toEqual(['warning', 'warning', 'none', 'warning', 'warning', 'relocated']);
  });

  it('missing and inconclusive fixes neither break nor extend the run', () => {
    const vague = { ...far, accuracyM: 50_000 };
    expect(run([far, undefined, vague, far, undefined, far])).toEqual(['warning', 'none', 'none', 'warning', 'none', 'relocated']);
  });

  it('reports the return once a relocated terminal is back inside', () => {
    expect(run([far, far, far, near, near])).toEqual(['warning', 'warning', 'relocated', 'returned', 'none']);
  });

  it('N = 1 relocates on the first fix', () => {
    expect(run([far], false, { ...rule, fixesToRelocate: 1 })).toEqual(['relocated']);
  });

  it('never relocates an exempt terminal', () => {
    expect(run([far, far, far, far], true)).toEqual(['none', 'none', 'none', 'none']);
  });
});
