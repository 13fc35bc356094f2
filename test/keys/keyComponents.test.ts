// Key components of a master-key import (pure): the key is component 1 XOR component 2, each part
// has its own KCV (AES-CMAC of a zero block, SPEC §5), recomputed here without the CMAC module;
// component 1 sealed for one request opens for that request only.
import { createCipheriv, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { keyCheckValue } from '../../schemas/keyCrypto/cmac.ts';
import { ceremonyKcvs, combineComponents, isAllZero, openComponent, parseComponent, sealComponent } from '../../server/keys/keyComponents.ts';

const C1 = Buffer.from(Array.from({ length: 32 }, (_, i) => i)); // 00 01 … 1f
const C2 = Buffer.from('a0a7aeb5bca3aab1b8bfa6adb4bba2a9b0b7bea5acb3baa1a8afb6bda4abb2b9', 'hex');
const KEY = 'a0a6acb6b8a6acb6b0b6aca6b8b6aca6a0a6acb6b8a6acb6b0b6aca6b8b6aca6';

/** KCV from first principles: for one complete zero block, CMAC = AES_K(K1), K1 = dbl(AES_K(0)). */
function kcvByHand(key: Buffer): string {
  const aes = (block: Buffer) => {
    const c = createCipheriv('aes-256-ecb', key, null);
    c.setAutoPadding(false);
    return Buffer.concat([c.update(block), c.final()]);
  };
  const l = aes(Buffer.alloc(16));
  const k1 = Buffer.alloc(16);
  for (let i = 0; i < 16; i++) k1[i] = ((l[i]! << 1) | (i < 15 ? l[i + 1]! >> 7 : 0)) & 0xff;
  if (l[0]! & 0x80) k1[15] = k1[15]! ^ 0x87;
  return `cmac:${aes(k1).subarray(0, 3).toString('hex').toUpperCase()}`;
}

describe('key components', () => {
  it('combines two components by XOR', () => {
    const key = combineComponents(C1, C2);
    expect(key.toString('hex')).toBe(KEY);
    // Either component and the key give back the other: neither alone says anything about the key.
    expect(combineComponents(key, C1).equals(C2)).toBe(true);
    expect(combineComponents(C2, C1).equals(key)).toBe(true);
    expect(isAllZero(combineComponents(C1, C1))).toBe(true);
    expect(() => combineComponents(C1, C2.subarray(1))).toThrow(RangeError);
  });

  it('gives the KCV of each component and of the key', () => {
    const kcvs = ceremonyKcvs(C1, C2);
    expect(kcvs).toEqual({ component1Kcv: 'cmac:377822', component2Kcv: 'cmac:6F7B3A', keyKcv: 'cmac:A7C66F' });
    expect(kcvs.component1Kcv).toBe(kcvByHand(C1));
    expect(kcvs.component2Kcv).toBe(kcvByHand(C2));
    expect(kcvs.keyKcv).toBe(kcvByHand(Buffer.from(KEY, 'hex')));
    expect(kcvs.keyKcv).toBe(keyCheckValue(Buffer.from(KEY, 'hex')));
    // The inputs are left as they were.
    expect(C1[31]).toBe(0x1f);
  });

  it('parses 64 hex digits only', () => {
    expect(parseComponent(KEY.toUpperCase()).toString('hex')).toBe(KEY);
    for (const bad of [KEY.slice(2), `${KEY}00`, `${KEY.slice(0, 62)}zz`, `${KEY.slice(0, 32)} ${KEY.slice(32)}`, Buffer.from(KEY, 'hex').toString('base64')]) {
      expect(() => parseComponent(bad)).toThrow(RangeError);
    }
  });

  it('seals a component under the master key for one request only', () => {
    const master = { gen: 3, key: randomBytes(32) };
    const masterOf = (gen: number) => (gen === 3 ? master.key : undefined);
    const sealed = sealComponent(master, 'kapr_one', C1);
    expect(Buffer.from(sealed, 'base64').includes(C1)).toBe(false);
    expect(Buffer.from(sealed, 'base64').readUInt32BE(0)).toBe(3);
    expect(openComponent(masterOf, 'kapr_one', sealed)!.equals(C1)).toBe(true);
    // Another request id (AAD), another master key, a flipped byte: nothing opens.
    expect(openComponent(masterOf, 'kapr_two', sealed)).toBeNull();
    expect(openComponent(() => randomBytes(32), 'kapr_one', sealed)).toBeNull();
    expect(openComponent(() => undefined, 'kapr_one', sealed)).toBeNull();
    const b = Buffer.from(sealed, 'base64');
    b[20] = b[20]! ^ 1;
    expect(openComponent(masterOf, 'kapr_one', b.toString('base64'))).toBeNull();
    expect(openComponent(masterOf, 'kapr_one', 'short')).toBeNull();
  });
});
