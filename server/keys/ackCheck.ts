// Pure reading of a keys.install ack: the server marks a key installed only when the KCV the
// device computed equals the vault's.
import { keysInstallResult } from '../../schemas/keys.ts';
import { sameKcv } from '../../schemas/keyCrypto/cmac.ts';

export interface Expected {
  keyId: string;
  kcv: string;
}

export type AckReading = { ok: true; kcvs: Map<string, string> } | { ok: false; code: string; message: string; badKeyIds: string[] };

export function readInstallAck(result: unknown, expected: readonly Expected[]): AckReading {
  const parsed = keysInstallResult.safeParse(result);
  if (!parsed.success) return { ok: false, code: 'bad_result', message: 'the ack result is not a key install result', badKeyIds: expected.map((e) => e.keyId) };
  const got = new Map(parsed.data.installed.map((i) => [i.keyId, i.kcv]));
  const bad = expected.filter((e) => {
    const kcv = got.get(e.keyId);
    return !kcv || !sameKcv(kcv, e.kcv);
  });
  if (bad.length) return { ok: false, code: 'kcv_mismatch', message: `the device's check value differs for ${bad.length} key(s)`, badKeyIds: bad.map((b) => b.keyId) };
  return { ok: true, kcvs: got };
}
