import { createCipheriv, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { keyCheckValue } from '../../schemas/keyCrypto/cmac.ts';
import { KeyBlockError } from '../../schemas/keyCrypto/header.ts';
import { kcv, matchesKcv, parseKcv } from '../../schemas/keyCrypto/kcv.ts';

const hex = (s: string) => Buffer.from(s, 'hex');

describe('key check values', () => {
  // Keys and KCVs of the TR-31:2018 Annex A examples (A.7.2.1, A.7.2.2, A.7.4) and of a Thales
  // payShield 10k TDES and AES-256 example, as published in openemv/tr31 test/tr31_decrypt_test.c
  // (X9.143:2021 8.1 gives the same AES key's KCV as 08793E25AB, 5 bytes).
  it.each([
    ['enc0', 'F039121BEC83D26B169BDCD5B22AAF8F', 'enc0:CB9DEA'],
    ['enc0', '3F419E1CB7079442AA37474C2EFBF8B8', 'enc0:57C409'],
    ['enc0', '5DB50B454F8389ADCE573BE50861F2BF', 'enc0:5C9405'],
    ['cmac', '3F419E1CB7079442AA37474C2EFBF8B8', 'cmac:08793E'],
    ['cmac', 'BE19E6A07A760F10EF8E83A226B63AAD141F463FDDD4F47DB244B4023EC3CACC', 'cmac:0A00E3'],
  ] as const)('%s of %s is %s', (method, key, expected) => {
    expect(kcv(method, hex(key))).toBe(expected);
    expect(matchesKcv(hex(key), expected)).toBe(true);
  });

  it('cmac: is the CMAC of one zero block, E_K(K1), with the NIST SP 800-38B D.1 key and subkey K1', () => {
    // SP 800-38B D.1 (and RFC 4493 §4): K = 2b7e1516…, K1 = fbeed618…; a complete last block is xored with K1.
    const c = createCipheriv('aes-128-ecb', hex('2b7e151628aed2a6abf7158809cf4f3c'), null);
    const tag = c.update(hex('fbeed618357133667c85e08f7236a8de'));
    expect(kcv('cmac', hex('2b7e151628aed2a6abf7158809cf4f3c'))).toBe(`cmac:${tag.subarray(0, 3).toString('hex').toUpperCase()}`);
    expect(kcv('cmac', hex('2b7e151628aed2a6abf7158809cf4f3c'))).toBe('cmac:7AD386');
  });

  it('cmac: is the KCV the vault already stores', () => {
    const key = randomBytes(32);
    expect(kcv('cmac', key)).toBe(keyCheckValue(key));
  });

  it('the X9.24-1 example BDK and initial key', () => {
    expect(kcv('enc0', hex('0123456789ABCDEFFEDCBA9876543210'))).toBe('enc0:08D7B4');
    expect(kcv('enc0', hex('6AC292FAA1315B4D858AB3A3D7D5933A'))).toBe('enc0:AF8C07');
  });

  it('parses a KCV into method and bytes, in either case', () => {
    expect(parseKcv('enc0:08d7b4')).toEqual({ method: 'enc0', value: hex('08D7B4') });
    expect(parseKcv('CMAC:7AD386')).toEqual({ method: 'cmac', value: hex('7AD386') });
  });

  it.each(['08D7B4', 'enc1:08D7B4', 'enc0:08D7B', 'enc0:08D7B4FB', 'enc0:08D7BG', 'enc0: 08D7B4', ''])('refuses %j', (text) => {
    expect(() => parseKcv(text)).toThrow(KeyBlockError);
  });

  it('a KCV of another key or method does not match', () => {
    const key = hex('3F419E1CB7079442AA37474C2EFBF8B8');
    expect(matchesKcv(key, 'enc0:57C408')).toBe(false);
    expect(matchesKcv(key, 'cmac:57C409')).toBe(false);
    expect(matchesKcv(hex('F039121BEC83D26B169BDCD5B22AAF8F'), 'enc0:57C409')).toBe(false);
  });

  it('refuses keys of the wrong length for the method', () => {
    expect(() => kcv('enc0', randomBytes(8))).toThrow(KeyBlockError);
    expect(() => kcv('enc0', randomBytes(32))).toThrow(KeyBlockError);
    expect(() => kcv('cmac', randomBytes(20))).toThrow(KeyBlockError);
  });
});
