// The TR-31 worked example of docs/keys.md: fixed inputs, and the values each step gives.
// The test reads the expected values from the doc itself, so the doc cannot drift from the code.
import { aesCmac } from '../../schemas/keyCrypto/cmac.ts';
import { derivationData, deriveTr31Keys, deviceBlock, parseHeader, wrapTr31, type Tr31Header } from '../../schemas/keyCrypto/tr31.ts';

export const tr31Inputs = {
  // The KBPK and key of TR-31:2018 A.7.4, so the derived KBEK and KBMK are the published ones.
  kbpk: Buffer.from('88E1AB2A2E3DD38C1FA039A536500CC8A87AB9D62DC92C01058FA79F44657DE6', 'hex'),
  key: Buffer.from('3F419E1CB7079442AA37474C2EFBF8B8', 'hex'),
  padding: Buffer.from(Array.from({ length: 14 }, (_, i) => i)),
};

export const tr31ExampleHeader: Tr31Header = {
  versionId: 'D',
  keyUsage: 'P0',
  algorithm: 'A',
  modeOfUse: 'E',
  keyVersionNumber: '01',
  exportability: 'N',
  keyContext: '0',
  optionalBlocks: [deviceBlock('dev_example')],
};

export function computeTr31Vectors(): Record<string, string> {
  const i = tr31Inputs;
  const { kbek, kbmk } = deriveTr31Keys(i.kbpk);
  const block = wrapTr31({ header: tr31ExampleHeader, key: i.key, kbpk: i.kbpk, padding: i.padding });
  const { headerLength } = parseHeader(block);
  const header = block.slice(0, headerLength);
  const keyData = Buffer.concat([Buffer.from([0x00, 0x80]), i.key, i.padding]);
  return {
    kbek_derivation_data_1: derivationData(1, 0x0000, 32).toString('hex'),
    kbek_derivation_data_2: derivationData(2, 0x0000, 32).toString('hex'),
    kbmk_derivation_data_1: derivationData(1, 0x0001, 32).toString('hex'),
    kbmk_derivation_data_2: derivationData(2, 0x0001, 32).toString('hex'),
    kbek: kbek.toString('hex'),
    kbmk: kbmk.toString('hex'),
    header_ascii: header,
    clear_key_data: keyData.toString('hex'),
    mac: aesCmac(kbmk, Buffer.concat([Buffer.from(header, 'ascii'), keyData])).toString('hex'),
    block,
  };
}
