// Shared by the dukptAgent tests: a terminal's state dir holding a TMK, and keys.install IK items
// built as the server sends them (docs/keys.md "DUKPT injection"), TR-31 under the test TMK.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { openDukptLedger } from '../../agent/keys/dukptLedger.ts';
import { createDukptTerminal } from '../../agent/keys/dukptTerminal.ts';
import { unwrapItems } from '../../agent/keys/installKeys.ts';
import { openSecureStore } from '../../agent/keys/secureStore.ts';
import { keyCheckValue } from '../../schemas/keyCrypto/cmac.ts';
import { kcv } from '../../schemas/keyCrypto/kcv.ts';
import { deviceBlock, wrapTr31, type Tr31OptionalBlock } from '../../schemas/keyCrypto/tr31.ts';
import type { DukptScheme, KeyInstallItem } from '../../schemas/keys.ts';
import { tempDir } from '../agent/helpers.ts';
import { aes128, aes256, initialKeyId } from './dukptAesVectors.ts';
import { INITIAL_KSN, IPEK } from './dukptTdesVectors.ts';

export const DEV = 'dev_dukpt';
export const TMK_ID = 'key_tmk1';

/** The published initial keys, with the initial KSN the server names them by. */
export const published: Record<DukptScheme, { key: string; ksn: string; bdk: string }> = {
  aes128: { key: aes128.initialKey, ksn: `${initialKeyId}00000000`, bdk: aes128.bdk },
  aes256: { key: aes256.initialKey, ksn: `${initialKeyId}00000000`, bdk: aes256.bdk },
  tdes: { key: IPEK, ksn: INITIAL_KSN, bdk: '0123456789ABCDEFFEDCBA9876543210' },
};

export interface IkOptions {
  keyUsage?: string;
  modeOfUse?: string;
  algorithm?: string;
  /** Replaces the default 01 (device) and IK / KS blocks. */
  blocks?: Tr31OptionalBlock[];
  kbpk?: Buffer;
  key?: Buffer;
}

/** An IK item of `scheme` with the published initial key, under `tmk`; `item` overrides item fields. */
export function ikItem(scheme: DukptScheme, tmk: Buffer, opts: IkOptions = {}, item: Partial<KeyInstallItem> = {}): KeyInstallItem {
  const p = published[scheme];
  const key = opts.key ?? Buffer.from(p.key, 'hex');
  const name: Tr31OptionalBlock = scheme === 'tdes' ? { id: 'KS', data: p.ksn } : { id: 'IK', data: p.ksn.slice(0, 16) };
  const block = wrapTr31({
    header: {
      versionId: 'D',
      keyUsage: opts.keyUsage ?? 'B1',
      algorithm: opts.algorithm ?? (scheme === 'tdes' ? 'T' : 'A'),
      modeOfUse: opts.modeOfUse ?? 'X',
      keyVersionNumber: '00',
      exportability: 'N',
      keyContext: '0',
      optionalBlocks: opts.blocks ?? [deviceBlock(DEV), name],
    },
    key,
    kbpk: opts.kbpk ?? tmk,
  });
  return {
    slot: 'dukpt',
    usage: 'IK',
    keyId: 'key_ik1',
    version: 1,
    kcv: kcv(scheme === 'tdes' ? 'enc0' : 'cmac', key),
    format: 'tr31',
    block,
    dukpt: { scheme, ksn: p.ksn, bdkKcv: kcv(scheme === 'tdes' ? 'enc0' : 'cmac', Buffer.from(p.bdk, 'hex')) },
    ...item,
  };
}

/** A fresh state dir with a TMK in the key store. */
export function terminalWithTmk() {
  const dir = tempDir('posfleet-dukpt-');
  const store = openSecureStore(dir);
  const tmk = randomBytes(32);
  store.install(
    [{ slot: 'tmk', usage: 'TMK', keyId: TMK_ID, version: 1, kcv: keyCheckValue(tmk), key: Buffer.from(tmk), wk: 'KEK' }],
    1000,
  );
  return { dir, store, tmk };
}

/** Opens the DUKPT side of a state dir afresh, as a restarted agent does. */
export const reopen = (dir: string, random?: (n: number) => Buffer) =>
  createDukptTerminal({ store: openSecureStore(dir), ledger: openDukptLedger(dir), ...(random ? { random } : {}) });

/** Checks and stores the items as the keys.install handler does (all or nothing). */
export function install(dir: string, items: KeyInstallItem[]): void {
  const store = openSecureStore(dir);
  const keys = unwrapItems(items, { deviceId: DEV, kek, store });
  store.install(keys, 2000);
}

/** IK items never open anything under the KEK; unwrapItems still takes one. */
export const kek = generateKeyPairSync('x25519').privateKey;
