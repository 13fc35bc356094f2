import { documentedVectors } from '../helpers/docVectors.ts';
import { createDecipheriv, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { KeyBlockError } from '../../schemas/keyCrypto/header.ts';
import {
  deriveTr31Keys,
  deviceBlock,
  initialKeyIdBlock,
  keySetIdBlock,
  optionalBlock,
  parseHeader,
  serialiseHeader,
  unwrapTr31,
  wrapTr31,
  type Tr31Header,
} from '../../schemas/keyCrypto/tr31.ts';
import { computeTr31Vectors } from './tr31Vectors.ts';

const hex = (s: string) => Buffer.from(s, 'hex');
const X9_KBPK = hex('88E1AB2A2E3DD38C1FA039A536500CC8A87AB9D62DC92C01058FA79F44657DE6');
const THALES_KBPK = Buffer.alloc(32, 0x41);

// Published version D blocks. Values only, as published; the sources are the standards' annexes,
// collected in the public test files of github.com/openemv/tr31 (test/tr31_decrypt_test.c, src/CMakeLists.txt).
const published = [
  {
    source: 'ANSI X9 TR-31:2018 A.7.4',
    kbpk: X9_KBPK,
    block: 'D0112P0AE00E0000B82679114F470F540165EDFBF7E250FCEA43F810D215F8D207E2E417C07156A27E8E31DA05F7425509593D03A457DC34',
    key: '3f419e1cb7079442aa37474c2efbf8b8',
    fields: { keyUsage: 'P0', algorithm: 'A', modeOfUse: 'E', keyVersionNumber: '00', exportability: 'E' },
  },
  {
    source: 'ANSI X9.143:2021 8.1 (key length masked as 32 bytes)',
    kbpk: X9_KBPK,
    block:
      'D0144P0AE00E00002C77FA3F4A553BED6E88AE5C172A4166E3D4ACA8E2AC71C158A476FAC12C13C3829DE55D3AB54C48F4C4FEF7AC75E90FC47F1B77E7B19A73ED46E64410082557',
    key: '3f419e1cb7079442aa37474c2efbf8b8',
    fields: { keyUsage: 'P0', algorithm: 'A', modeOfUse: 'E', keyVersionNumber: '00', exportability: 'E' },
  },
  {
    source: 'ISO 20038:2017 B.3 (KBPK is the ASCII of "256-bit AES wrapping (ISO 20038)"; key as its MAC input shows)',
    kbpk: Buffer.from('256-bit AES wrapping (ISO 20038)', 'ascii'),
    block: 'D0112M3TV16N000018462FA5903B8D2B82FEE26B29713C0BE7ED81601087F12252093D06FC0A012C1CF769AD0E3E9E4877166AB013FC22B4',
    key: '767361707064642032454552206b6479',
    fields: { keyUsage: 'M3', algorithm: 'T', modeOfUse: 'V', keyVersionNumber: '16', exportability: 'N' },
  },
  {
    source: 'Thales payShield 10k, TDES BDK under AES-256 (openemv/tr31 test7)',
    kbpk: THALES_KBPK,
    block: 'D0112B0TN00N000037DB9B046B7B0048785690759580ABC3B9842AB4BB7717B49E92528E575785D8123559376A2553B27BE94F054F4E971C',
    key: '1fa1f7cec798d91545da8ae0c7796bd9',
    fields: { keyUsage: 'B0', algorithm: 'T', modeOfUse: 'N', keyVersionNumber: '00', exportability: 'N' },
  },
  {
    source: 'Thales payShield 10k, AES-256 data key (openemv/tr31 test8)',
    kbpk: THALES_KBPK,
    block:
      'D0144D0AN00N0000127862F945C2DED04530FAF7CDBC8B0BA10C7AA79BD5E0C2C5D6AC173BF588E4B19ACF1357178D50EA0AB193228E13958304FC6149632DFDCADF3A5B3D57E814',
    key: 'be19e6a07a760f10ef8e83a226b63aad141f463fddd4f47db244b4023ec3cacc',
    fields: { keyUsage: 'D0', algorithm: 'A', modeOfUse: 'N', keyVersionNumber: '00', exportability: 'N' },
  },
  {
    source: 'X9.143 optional blocks DA, LB, PK, WP, PB (openemv/tr31 src/CMakeLists.txt tr31_tool_test32)',
    kbpk: X9_KBPK,
    block:
      'D0208B3AX00E0500DA1001D2ABND3AENLB10My Great KeyPK10019876543210WP07003PB09AcsovCCFF2ACD2116AB1CD7923B7C1AC7DD614EAC0EB7B6FE94BE3576D985E9E2AD3AF493FCB1B5CA34C51AB7A84D2C98DEAB51C6C51F82BFAD1DD1A82EB14C8FEB85',
    key: '3f419e1cb7079442aa37474c2efbf8b8',
    fields: { keyUsage: 'B3', algorithm: 'A', modeOfUse: 'X', keyVersionNumber: '00', exportability: 'E' },
  },
];

/** The clear key data of a published block (CBC under the KBEK with the MAC as IV), to recover its random padding. */
function clearKeyData(block: string, kbpk: Buffer): Buffer {
  const { headerLength } = parseHeader(block);
  const body = block.slice(headerLength);
  const d = createDecipheriv(`aes-${kbpk.length * 8}-cbc`, deriveTr31Keys(kbpk).kbek, hex(body.slice(-32)));
  d.setAutoPadding(false);
  return Buffer.concat([d.update(hex(body.slice(0, -32))), d.final()]);
}

const refusal = (fn: () => unknown): string => {
  try {
    fn();
  } catch (e) {
    if (e instanceof KeyBlockError) return e.code;
    throw e;
  }
  throw new Error('expected a KeyBlockError');
};

describe('TR-31 version D key derivation (TR-31:2018 A.7.4)', () => {
  it('derives the KBEK and KBMK from an AES-256 KBPK', () => {
    const { kbek, kbmk } = deriveTr31Keys(X9_KBPK);
    expect(kbek.toString('hex')).toBe('396c9382a6e2e66a088774e1d6e46541f5ead67d7204f8dd0d7ae8fda334d3ac');
    expect(kbmk.toString('hex')).toBe('4ef24317696213840451890756757e573e0673483888f9b7f9b7517827f95022');
  });
  it('refuses a KBPK that is not an AES key', () => {
    for (const n of [0, 8, 15, 17, 31, 33]) expect(refusal(() => deriveTr31Keys(Buffer.alloc(n)))).toBe('bad_block');
  });
});

describe('published version D blocks', () => {
  it.each(published)('$source unwraps', ({ kbpk, block, key, fields }) => {
    const out = unwrapTr31(block, kbpk);
    expect(out.key.toString('hex')).toBe(key);
    expect(out.header).toMatchObject({ versionId: 'D', keyContext: '0', ...fields });
  });
  it.each(published)('$source is wrapped again byte for byte with its own padding', ({ kbpk, block, key }) => {
    const { header } = unwrapTr31(block, kbpk);
    const data = clearKeyData(block, kbpk);
    const padding = data.subarray(2 + hex(key).length);
    expect(wrapTr31({ header, key: hex(key), kbpk, padding, maskedKeyLength: data.length - 2 })).toBe(block);
  });
  it('reads the optional blocks of the X9.143 example in order', () => {
    const { header } = unwrapTr31(published[5]!.block, X9_KBPK);
    expect(header.optionalBlocks).toEqual([
      { id: 'DA', data: '01D2ABND3AEN' },
      { id: 'LB', data: 'My Great Key' },
      { id: 'PK', data: '019876543210' },
      { id: 'WP', data: '003' },
      { id: 'PB', data: 'Acsov' },
    ]);
  });
});

const pinKey: Tr31Header = {
  versionId: 'D',
  keyUsage: 'P0',
  algorithm: 'A',
  modeOfUse: 'E',
  keyVersionNumber: '00',
  exportability: 'E',
  keyContext: '0',
  optionalBlocks: [],
};

describe('header', () => {
  it('pads optional blocks with PB to whole AES blocks as openemv/tr31 exports them (tr31_tool_test16)', () => {
    const block = wrapTr31({
      header: {
        ...pinKey,
        keyUsage: 'B1',
        modeOfUse: 'X',
        exportability: 'N',
        optionalBlocks: [initialKeyIdBlock(hex('1234567890123456'))],
      },
      key: hex('1273671EA26AC29AFA4D1084127652A1'),
      kbpk: THALES_KBPK,
    });
    expect(block.startsWith('D0144B1AX00N0200IK141234567890123456PB0C00000000')).toBe(true);
    expect(unwrapTr31(block, THALES_KBPK).key.toString('hex')).toBe('1273671ea26ac29afa4d1084127652a1');
  });
  it('encodes KC and KP as openemv/tr31 exports them (tr31_tool_test15)', () => {
    const header = {
      ...pinKey,
      keyUsage: 'K0',
      modeOfUse: 'B',
      optionalBlocks: [
        { id: 'KC', data: '0108793E25AB' },
        { id: 'KP', data: '012331550BC9' },
      ],
    };
    expect(wrapTr31({ header, key: hex('3F419E1CB7079442AA37474C2EFBF8B8'), kbpk: X9_KBPK }).slice(0, 48)).toBe(
      'D0144K0AB00E0200KC100108793E25ABKP10012331550BC9',
    );
  });
  it('pads every optional block length to a multiple of 16 and reads it back', () => {
    for (let n = 0; n < 40; n++) {
      const h = { ...pinKey, optionalBlocks: [{ id: 'LB', data: 'x'.repeat(n) }] };
      const text = serialiseHeader(h, 9999);
      expect(text.length % 16).toBe(0);
      const parsed = parseHeader(text);
      expect(parsed.headerLength).toBe(text.length);
      expect(parsed.header.optionalBlocks[0]).toEqual({ id: 'LB', data: 'x'.repeat(n) });
    }
  });
  it('uses the extended length form for a block over 255 characters', () => {
    const data = 'C'.repeat(300);
    const text = serialiseHeader({ ...pinKey, optionalBlocks: [{ id: 'CT', data }] }, 9999);
    expect(text.slice(16, 26)).toBe(`CT0004${(310).toString(16).toUpperCase().padStart(4, '0')}`);
    expect(parseHeader(text).header.optionalBlocks[0]).toEqual({ id: 'CT', data });
  });
  it('carries the key set id, initial key id and device blocks', () => {
    const kbpk = randomBytes(32);
    const optionalBlocks = [
      keySetIdBlock(hex('FFFF9876543210E00000')),
      initialKeyIdBlock(hex('1234567890123456')),
      deviceBlock('dev_lvw9CzIgB-zsfMlu'),
    ];
    const { header } = unwrapTr31(wrapTr31({ header: { ...pinKey, optionalBlocks }, key: randomBytes(16), kbpk }), kbpk);
    expect(optionalBlock(header, 'KS')).toBe('FFFF9876543210E00000');
    expect(optionalBlock(header, 'IK')).toBe('1234567890123456');
    expect(optionalBlock(header, '01')).toBe('dev_lvw9CzIgB-zsfMlu');
  });
  it.each([
    ['a version other than D', 'B0016P0AE00E0000'],
    ['a length that is not decimal', 'D00X6P0AE00E0000'],
    ['an exportability other than E, N, S', 'D0016P0AE00X0000'],
    ['a key context other than 0, 1, 2', 'D0016P0AE00E0030'],
    ['a reserved byte other than 0', 'D0016P0AE00E0001'],
    ['a count that is not decimal', 'D0016P0AE00E0A00'],
    ['a lower-case key usage', 'D0016p0AE00E0000'],
    ['a header shorter than 16', 'D0016P0AE00E000'],
    ['an optional block running past the end', 'D0032P0AE00E0100KS20FFFF'],
    ['an optional block length shorter than its own header', 'D0032P0AE00E0100KS02FFFFFFFFFFFF'],
    ['a header not a multiple of 16', 'D0032P0AE00E0100LB08ABCD'],
    ['a PB block that is not last', 'D0032P0AE00E0200PB04LB0CABCDEFGH'],
    ['a non-printable character', 'D0016P0AE00E0000\u0001'],
  ])('refuses %s', (_why, text) => expect(refusal(() => parseHeader(text))).toBe('bad_block'));
  it('refuses fields it cannot encode', () => {
    expect(refusal(() => serialiseHeader({ ...pinKey, keyUsage: 'P' }, 0))).toBe('bad_block');
    expect(refusal(() => serialiseHeader(pinKey, 10000))).toBe('bad_block');
    expect(refusal(() => serialiseHeader({ ...pinKey, optionalBlocks: [{ id: 'lb', data: 'x' }] }, 0))).toBe('bad_block');
    expect(refusal(() => serialiseHeader({ ...pinKey, optionalBlocks: [{ id: 'LB', data: 'é' }] }, 0))).toBe('bad_block');
    expect(refusal(() => keySetIdBlock(Buffer.alloc(8)))).toBe('bad_block');
    expect(refusal(() => initialKeyIdBlock(Buffer.alloc(10)))).toBe('bad_block');
    expect(refusal(() => deviceBlock('dev;x'))).toBe('bad_block');
  });
});

describe('wrap and unwrap', () => {
  const keyCases = [
    ['A', 16],
    ['A', 24],
    ['A', 32],
    ['T', 16],
    ['T', 24],
  ] as const;
  it.each([16, 24, 32])('round-trips every key length under an AES-%i KBPK, with fresh padding each time', (kbpkBits) => {
    const kbpk = randomBytes(kbpkBits);
    for (const [algorithm, length] of keyCases) {
      const key = randomBytes(length);
      const header = { ...pinKey, algorithm, optionalBlocks: [deviceBlock('dev_example')] };
      const a = wrapTr31({ header, key, kbpk });
      const b = wrapTr31({ header, key, kbpk });
      expect(a).not.toBe(b);
      expect(a.length).toBe(Number(a.slice(1, 5)));
      for (const block of [a, b]) expect(unwrapTr31(block, kbpk)).toEqual({ header: parseHeader(a).header, key });
    }
  });
  it('masks the key length when asked', () => {
    const kbpk = randomBytes(32);
    const short = wrapTr31({ header: pinKey, key: randomBytes(16), kbpk, maskedKeyLength: 32 });
    const long = wrapTr31({ header: pinKey, key: randomBytes(32), kbpk });
    expect(short.length).toBe(long.length);
  });

  const kbpk = randomBytes(32);
  const key = randomBytes(16);
  const block = wrapTr31({ header: { ...pinKey, optionalBlocks: [keySetIdBlock(hex('FFFF9876543210E00000'))] }, key, kbpk });
  const headerLength = parseHeader(block).headerLength;
  const flip = (at: number, to: string) => block.slice(0, at) + to + block.slice(at + 1);
  const other = (c: string) => (c === 'A' ? 'B' : 'A');
  it.each([
    ['a key usage byte', 5, (c: string) => (c === 'P' ? 'K' : 'P')],
    ['the exportability byte', 11, (c: string) => (c === 'E' ? 'N' : 'E')],
    ['an optional block data byte', 20, other],
    ['a ciphertext byte', headerLength + 3, other],
    ['the last ciphertext byte', block.length - 33, other],
    ['a MAC byte', block.length - 1, other],
  ])('refuses a block with %s changed', (_what, at, change) => {
    const tampered = flip(at, change(block[at]!));
    expect(tampered).not.toBe(block);
    expect(refusal(() => unwrapTr31(tampered, kbpk))).toBe('unwrap_failed');
  });
  it('refuses the block under another KBPK', () => {
    expect(refusal(() => unwrapTr31(block, randomBytes(32)))).toBe('unwrap_failed');
  });
  it.each([
    ['a block cut short', () => block.slice(0, -2)],
    ['a block cut by a whole AES block', () => block.slice(0, -32)],
    ['a length field that disagrees', () => block.slice(0, 1) + String(block.length + 32).padStart(4, '0') + block.slice(5)],
    ['lower-case hex', () => block.slice(0, headerLength) + block.slice(headerLength).toLowerCase()],
    ['no key data at all', () => serialiseHeader(pinKey, 48) + '0'.repeat(32)],
  ])('refuses %s', (_why, make) => {
    const bad = make();
    expect(bad).not.toBe(block);
    expect(refusal(() => unwrapTr31(bad, kbpk))).toBe('bad_block');
  });
  it('refuses a KBPK of the wrong length', () => {
    expect(refusal(() => unwrapTr31(block, kbpk.subarray(0, 20)))).toBe('bad_block');
    expect(refusal(() => wrapTr31({ header: pinKey, key, kbpk: kbpk.subarray(0, 20) }))).toBe('bad_block');
  });
  it.each([
    ['A', 15],
    ['A', 8],
    ['T', 8],
    ['T', 32],
  ] as const)('refuses an %s key of %i bytes', (algorithm, length) => {
    expect(refusal(() => wrapTr31({ header: { ...pinKey, algorithm }, key: randomBytes(length), kbpk }))).toBe('bad_block');
  });
  it('refuses padding of the wrong length', () => {
    expect(refusal(() => wrapTr31({ header: pinKey, key, kbpk, padding: Buffer.alloc(3) }))).toBe('bad_block');
  });
});

describe('worked example of docs/keys.md (TR-31 version D)', () => {
  const documented = documentedVectors('tr31-vectors');
  const computed = computeTr31Vectors();
  it('documents every value', () => expect(Object.keys(documented).sort()).toEqual(Object.keys(computed).sort()));
  it.each(Object.keys(computed))('%s matches', (name) => expect(computed[name]).toBe(documented[name]));
});
