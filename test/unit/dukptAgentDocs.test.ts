// docs/keys.md "DUKPT injection", worked example: every line of the `dukpt-injection` block is
// recomputed, the blocks are installed through the agent, and its first transactions give the
// documented KSNs and PIN blocks.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { openSecureStore } from '../../agent/keys/secureStore.ts';
import * as aes from '../../schemas/keyCrypto/dukptAes.ts';
import * as tdes from '../../schemas/keyCrypto/dukptTdes.ts';
import { kcv } from '../../schemas/keyCrypto/kcv.ts';
import {
  deriveTr31Keys,
  deviceBlock,
  initialKeyIdBlock,
  keySetIdBlock,
  parseHeader,
  wrapTr31,
  type Tr31Header,
} from '../../schemas/keyCrypto/tr31.ts';
import { keyCheckValue } from '../../schemas/keyCrypto/cmac.ts';
import { tempDir } from '../agent/helpers.ts';
import { DEV, ikItem, install, reopen, TMK_ID } from './dukptAgentFixtures.ts';

const doc = readFileSync(new URL('../../docs/keys.md', import.meta.url), 'utf8');
const lines = (/```dukpt-injection\n([\s\S]*?)```/.exec(doc)?.[1] ?? '').trim().split('\n');
const v = new Map(lines.map((l) => [l.slice(0, l.indexOf(' = ')), l.slice(l.indexOf(' = ') + 3)]));
const h = (s: string) => Buffer.from(s, 'hex');
const x = (b: Uint8Array) => Buffer.from(b).toString('hex').toUpperCase();
const read = new Set<string>();
const get = (name: string): string => {
  read.add(name);
  const value = v.get(name);
  if (value === undefined) throw new Error(`the worked example has no line ${name}`);
  return value;
};

const header = (algorithm: string, name: Tr31Header['optionalBlocks'][number]): Tr31Header => ({
  versionId: 'D',
  keyUsage: 'B1',
  algorithm,
  modeOfUse: 'X',
  keyVersionNumber: '00',
  exportability: 'N',
  keyContext: '0',
  optionalBlocks: [deviceBlock(DEV), name],
});

function terminalWithDocTmk() {
  const dir = tempDir('posfleet-dukpt-doc-');
  const tmk = h(get('tmk'));
  openSecureStore(dir).install(
    [{ slot: 'tmk', usage: 'TMK', keyId: TMK_ID, version: 1, kcv: keyCheckValue(tmk), key: Buffer.from(tmk), wk: 'KEK' }],
    1,
  );
  return { dir, tmk };
}

describe('docs/keys.md DUKPT injection worked example', () => {
  it('AES-128: the block byte by byte, its install and the round trip of counter 1', () => {
    const tmk = h(get('tmk'));
    const keys = deriveTr31Keys(tmk);
    expect([x(keys.kbek), x(keys.kbmk)]).toEqual([get('kbek'), get('kbmk')]);
    const ik = h(get('initial_key'));
    expect(kcv('cmac', ik)).toBe(get('kcv'));
    const block = wrapTr31({
      header: header('A', initialKeyIdBlock(h(get('ksn').slice(0, 16)))),
      key: ik,
      kbpk: tmk,
      padding: h(get('padding')),
    });
    expect(block).toBe(get('block'));
    const { headerLength } = parseHeader(block);
    expect(block.slice(0, headerLength)).toBe(get('header'));
    expect(x(Buffer.concat([h('0080'), ik, h(get('padding'))]))).toBe(get('key_data'));

    const { dir } = terminalWithDocTmk();
    install(dir, [ikItem('aes128', tmk, {}, { block, kcv: get('kcv') })]);
    const pinField = h(get('pin_field'));
    const r = reopen(dir, () => pinField.subarray(8)).encipherPin('dukpt', '1234', '4111111111111111');
    expect(r).toEqual({ slot: 'dukpt', ksn: get('check_ksn'), pinBlock: get('pin_block') });

    const ikid = h(get('ksn').slice(0, 16));
    expect(x(aes.derivationData('keyDerivation', 'AES128', ikid, 1))).toBe(get('dd.keyDerivation.1'));
    const dk = aes.derivationKeyFor(ik, ikid, 1);
    expect(x(dk)).toBe(get('dk.1'));
    expect(x(aes.derivationData('pinEncryption', 'AES128', ikid, 1))).toBe(get('dd.pin.1'));
    expect(x(aes.workingKey(dk, ikid, 1, 'pinEncryption', 'AES128'))).toBe(get('pin.AES128.1'));
    expect(x(aes.pinField('1234', pinField.subarray(8)))).toBe(get('pin_field'));
    expect(x(aes.panField('4111111111111111'))).toBe(get('pan_field'));
  });

  it('TDES: the block, its install and the round trip of counter 1', () => {
    const { dir, tmk } = terminalWithDocTmk();
    const ipek = h('6AC292FAA1315B4D858AB3A3D7D5933A');
    expect(kcv('enc0', ipek)).toBe(get('tdes_kcv'));
    const block = wrapTr31({
      header: header('T', keySetIdBlock(h('FFFF9876543210E00000'))),
      key: ipek,
      kbpk: tmk,
      padding: h(get('padding')),
    });
    expect(block).toBe(get('tdes_block'));
    install(dir, [ikItem('tdes', tmk, {}, { block, kcv: get('tdes_kcv') })]);
    expect(reopen(dir).encipherPin('dukpt', '1234', '4111111111111111')).toEqual({
      slot: 'dukpt',
      ksn: get('tdes_check_ksn'),
      pinBlock: get('tdes_pin_block'),
    });
    const txnKey = tdes.deriveTransactionKey(ipek, h(get('tdes_check_ksn')));
    expect(x(tdes.sessionKey(txnKey, 'pin'))).toBe(get('tdes_pin_key'));
    expect(x(tdes.pinBlockFormat0('1234', '4111111111111111'))).toBe(get('tdes_clear_pin_block'));
  });

  // Last: the tests above read every line, so none stands in the document unchecked.
  it('checks every line of the block', () => {
    expect(lines.length).toBe(24);
    expect([...v.keys()].filter((name) => !read.has(name))).toEqual([]);
  });
});
