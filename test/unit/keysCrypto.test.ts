import { documentedVectors } from '../helpers/docVectors.ts';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { aesCmac, cmacSubkeys, keyCheckValue } from '../../schemas/keyCrypto/cmac.ts';
import { decodeHeader, encodeHeader, KeyBlockError, slotFitsUsage } from '../../schemas/keyCrypto/header.ts';
import { openTmkBlock, openWorkingBlock, parseBlock, rawX25519Public, sealTmkBlock, sealWorkingBlock, x25519PrivateFromRaw } from '../../schemas/keyCrypto/keyBlock.ts';
import { computeVectors, tmkHeader, tpkHeader, vectorInputs } from './keysVectors.ts';
import { createPublicKey } from 'node:crypto';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

describe('AES-CMAC (RFC 4493 §4 test vectors)', () => {
  const key = hex('2b7e1516 28aed2a6 abf71588 09cf4f3c');
  const msg = hex(`6bc1bee2 2e409f96 e93d7e11 7393172a ae2d8a57 1e03ac9c 9eb76fac 45af8e51
                   30c81c46 a35ce411 e5fbc119 1a0a52ef f69f2445 df4f9b17 ad2b417b e66c3710`);
  it('derives the subkeys', () => {
    const { k1, k2 } = cmacSubkeys(key);
    expect(k1.toString('hex')).toBe('fbeed618357133667c85e08f7236a8de');
    expect(k2.toString('hex')).toBe('f7ddac306ae266ccf90bc11ee46d513b');
  });
  it.each([
    [0, 'bb1d6929e95937287fa37d129b756746'],
    [16, '070a16b46b4d4144f79bdd9dd04a287c'],
    [40, 'dfa66747de9ae63030ca32611497c827'],
    [64, '51f0bebf7e3b9d92fc49741779363cfe'],
  ])('Mlen = %i', (len, tag) => {
    expect(aesCmac(key, msg.subarray(0, len)).toString('hex')).toBe(tag);
  });
  it('KCV is cmac: + first 3 bytes upper-case', () => {
    expect(keyCheckValue(key)).toBe(`cmac:${aesCmac(key, Buffer.alloc(16)).subarray(0, 3).toString('hex').toUpperCase()}`);
    expect(keyCheckValue(randomBytes(32))).toMatch(/^cmac:[0-9A-F]{6}$/);
  });
});

describe('worked example of docs/keys.md', () => {
  const documented = documentedVectors('vectors');
  const computed = computeVectors();
  it('documents every value', () => expect(Object.keys(documented).sort()).toEqual(Object.keys(computed).sort()));
  it.each(Object.keys(computed))('%s matches', (name) => expect(computed[name]).toBe(documented[name]));
  it('the device side opens the documented blocks', () => {
    const kek = x25519PrivateFromRaw(vectorInputs.kekPrivateKey);
    const tmk = openTmkBlock(parseBlock(hex(documented.tmk_block!)), kek);
    expect(tmk.equals(vectorInputs.tmk)).toBe(true);
    const p = parseBlock(hex(documented.tpk_block!));
    expect(p.header).toEqual(tpkHeader);
    expect(openWorkingBlock(p, tmk).equals(vectorInputs.tpk)).toBe(true);
  });
});

describe('key blocks', () => {
  const kek = generateKeyPairSync('x25519').privateKey;
  const kekPub = rawX25519Public(createPublicKey(kek));
  it('round-trips with fresh ephemeral keys and nonces', () => {
    const key = randomBytes(32);
    const a = sealTmkBlock({ header: tmkHeader, key, kekPublicKey: kekPub });
    const b = sealTmkBlock({ header: tmkHeader, key, kekPublicKey: kekPub });
    expect(a.equals(b)).toBe(false);
    expect(openTmkBlock(parseBlock(a), kek).equals(key)).toBe(true);
  });
  it('an edited header (other device, slot, version) no longer authenticates', () => {
    const tmk = randomBytes(32);
    const block = sealWorkingBlock({ header: tpkHeader, key: randomBytes(32), tmk });
    for (const [from, to] of [
      ['dev=dev_example', 'dev=dev_exampl2'],
      ['slot=tpk', 'slot=tak'],
      ['ver=1', 'ver=2'],
    ] as const) {
      const edited = Buffer.from(block.toString('latin1').replace(from, to), 'latin1');
      expect(() => openWorkingBlock(parseBlock(edited), tmk)).toThrowError(KeyBlockError);
    }
    expect(() => openWorkingBlock(parseBlock(block), randomBytes(32))).toThrow(/does not authenticate/);
  });
  it('a TMK block for another KEK does not open', () => {
    const block = sealTmkBlock({ header: tmkHeader, key: randomBytes(32), kekPublicKey: kekPub });
    expect(() => openTmkBlock(parseBlock(block), generateKeyPairSync('x25519').privateKey)).toThrow(/does not authenticate/);
  });
  it('headers are canonical', () => {
    expect(decodeHeader(encodeHeader(tpkHeader))).toEqual(tpkHeader);
    for (const bad of [
      'usage=TPK;alg=AES256;ver=01;kid=k;dev=d;slot=tpk;wk=t',
      'alg=AES256;usage=TPK;ver=1;kid=k;dev=d;slot=tpk;wk=t',
      'usage=XYZ;alg=AES256;ver=1;kid=k;dev=d;slot=tpk;wk=t',
      'usage=TPK;alg=AES256;ver=1;kid=k;dev=d;slot=tpk;wk=t;x=1',
      'usage=TPK;alg=AES256;ver=1;kid=k k;dev=d;slot=tpk;wk=t',
    ]) expect(() => decodeHeader(Buffer.from(bad)), bad).toThrowError(KeyBlockError);
    expect(slotFitsUsage('tpk.2', 'TPK')).toBe(true);
    expect(slotFitsUsage('tak', 'TPK')).toBe(false);
  });
  it('refuses truncated or foreign bytes', () => {
    expect(() => parseBlock(Buffer.from('nope'))).toThrow(/PFK1/);
    const block = sealWorkingBlock({ header: tpkHeader, key: randomBytes(32), tmk: randomBytes(32) });
    expect(() => parseBlock(block.subarray(0, block.length - 1))).toThrow(/length/);
  });
});
