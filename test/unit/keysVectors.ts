// The worked example of docs/keys.md: fixed inputs, and how the outputs are computed from them.
// The test reads the expected values from the doc itself, so the doc cannot drift from the code.
import { createPublicKey, diffieHellman } from 'node:crypto';
import { keyCheckValue } from '../../schemas/keyCrypto/cmac.ts';
import { encodeHeader, type KeyBlockHeader } from '../../schemas/keyCrypto/header.ts';
import { kbek, rawX25519Public, sealTmkBlock, sealWorkingBlock, tmkWrappingKey, x25519PrivateFromRaw } from '../../schemas/keyCrypto/keyBlock.ts';

const seq = (start: number, n: number) => Buffer.from(Array.from({ length: n }, (_, i) => (start + i) & 0xff));

export const vectorInputs = {
  kekPrivateKey: seq(0x00, 32),
  ephemeralPrivateKey: seq(0x20, 32),
  tmk: seq(0x40, 32),
  tpk: seq(0x60, 32),
  tmkNonce: seq(0xa0, 12),
  tpkNonce: seq(0xb0, 12),
};

export const tmkHeader: KeyBlockHeader = { usage: 'TMK', alg: 'AES256', ver: 1, kid: 'key_tmk_example', dev: 'dev_example', slot: 'tmk', wk: 'KEK' };
export const tpkHeader: KeyBlockHeader = { usage: 'TPK', alg: 'AES256', ver: 1, kid: 'key_tpk_example', dev: 'dev_example', slot: 'tpk', wk: 'key_tmk_example' };

export function computeVectors(): Record<string, string> {
  const i = vectorInputs;
  const kek = x25519PrivateFromRaw(i.kekPrivateKey);
  const eph = x25519PrivateFromRaw(i.ephemeralPrivateKey);
  const kekPub = rawX25519Public(createPublicKey(kek));
  const ephPub = rawX25519Public(createPublicKey(eph));
  const shared = diffieHellman({ privateKey: eph, publicKey: createPublicKey(kek) });
  const tmkHeaderBytes = encodeHeader(tmkHeader);
  return {
    kek_public_key: kekPub.toString('hex'),
    ephemeral_public_key: ephPub.toString('hex'),
    shared_secret: shared.toString('hex'),
    tmk_header: tmkHeaderBytes.toString('hex'),
    tmk_wrapping_key: tmkWrappingKey(shared, ephPub, kekPub, tmkHeaderBytes).toString('hex'),
    tmk_block: sealTmkBlock({ header: tmkHeader, key: i.tmk, kekPublicKey: kekPub, ephemeralPrivateKey: eph, nonce: i.tmkNonce }).toString('hex'),
    tmk_kcv: keyCheckValue(i.tmk),
    kbek: kbek(i.tmk).toString('hex'),
    tpk_header: encodeHeader(tpkHeader).toString('hex'),
    tpk_block: sealWorkingBlock({ header: tpkHeader, key: i.tpk, tmk: i.tmk, nonce: i.tpkNonce }).toString('hex'),
    tpk_kcv: keyCheckValue(i.tpk),
  };
}
