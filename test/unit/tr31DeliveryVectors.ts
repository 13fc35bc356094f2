// The TR-31 delivery example of docs/keys.md ("Working keys under the TMK"): the TPK of the PFK1
// worked example under its TMK, as the server sends it now. Fixed padding; the test reads the
// expected values from the doc itself, so the doc cannot drift from the code.
import { aesCmac } from '../../schemas/keyCrypto/cmac.ts';
import { deriveTr31Keys, parseHeader } from '../../schemas/keyCrypto/tr31.ts';
import { workingKeyTr31 } from '../../schemas/keyCrypto/workingKeyTr31.ts';
import { tpkHeader, vectorInputs } from './keysVectors.ts';

export const tr31DeliveryPadding = Buffer.from(Array.from({ length: 14 }, (_, i) => 0xc0 + i));

export function computeTr31DeliveryVectors(): Record<string, string> {
  const { tmk, tpk } = vectorInputs;
  const { kbek, kbmk } = deriveTr31Keys(tmk);
  const block = workingKeyTr31({ header: tpkHeader, key: tpk, tmk, padding: tr31DeliveryPadding });
  const header = block.slice(0, parseHeader(block).headerLength);
  // Key length in bits (256 = 0100), the key, the padding: 2 + 32 + 14 = 48 bytes.
  const keyData = Buffer.concat([Buffer.from([0x01, 0x00]), tpk, tr31DeliveryPadding]);
  return {
    tr31_kbek: kbek.toString('hex'),
    tr31_kbmk: kbmk.toString('hex'),
    tr31_header: header,
    tr31_clear_key_data: keyData.toString('hex'),
    tr31_mac: aesCmac(kbmk, Buffer.concat([Buffer.from(header, 'ascii'), keyData])).toString('hex'),
    tr31_block: block,
  };
}
