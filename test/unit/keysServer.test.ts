// Pure parts of server-side key management: install planning, reading acks, the campaign
// verdicts, dual-control rules, the software vault's AAD binding, master-key parsing.
import { createDecipheriv, generateKeyPairSync, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { keyCheckValue } from '../../schemas/keyCrypto/cmac.ts';
import { openTmkBlock, parseBlock, rawX25519Public } from '../../schemas/keyCrypto/keyBlock.ts';
import { openDeliveryTr31 } from '../../schemas/keyCrypto/tr31Delivery.ts';
import { headerOfDelivery } from '../../schemas/keyCrypto/workingKeyTr31.ts';
import { readInstallAck } from '../../server/keys/ackCheck.ts';
import { createBatcher } from '../../server/db/batcher.ts';
import { redactCommand } from '../../schemas/commands.ts';
import { decisionRefusal } from '../../server/keys/dualControl.ts';
import { planInstall } from '../../server/keys/installPlan.ts';
import { judgeKeyInstall } from '../../server/keys/keyRotationKind.ts';
import { parseMasterKey } from '../../server/keys/masterKey.ts';
import { dueBefore } from '../../server/keys/rotationPolicy.ts';
import { createSoftwareVault, SOFTWARE_VAULT_NOTICE, VaultError } from '../../server/keys/softwareVault.ts';

describe('install planning', () => {
  it('a first load brings a TMK with the working keys', () => {
    expect(planInstall(['TPK', 'TAK'], [], new Map())).toEqual([
      { usage: 'TMK', slot: 'tmk', version: 1, action: 'generate' },
      { usage: 'TPK', slot: 'tpk', version: 1, action: 'generate' },
      { usage: 'TAK', slot: 'tak', version: 1, action: 'generate' },
    ]);
  });
  it('a working-key rotation keeps the TMK and counts versions on from the highest ever used', () => {
    const installed = [{ id: 't1', usage: 'TMK' as const, slot: 'tmk', version: 1 }, { id: 'p1', usage: 'TPK' as const, slot: 'tpk', version: 1 }];
    expect(planInstall(['TPK'], installed, new Map([['tmk', 1], ['tpk', 4]]))).toEqual([{ usage: 'TPK', slot: 'tpk', version: 5, action: 'generate' }]);
  });
  it('a TMK rotation re-sends the working keys it does not replace', () => {
    const installed = [
      { id: 't1', usage: 'TMK' as const, slot: 'tmk', version: 1 },
      { id: 'p1', usage: 'TPK' as const, slot: 'tpk', version: 2 },
      { id: 'a1', usage: 'TAK' as const, slot: 'tak', version: 1 },
    ];
    expect(planInstall(['TMK', 'TAK'], installed, new Map([['tmk', 1], ['tpk', 2], ['tak', 1]]))).toEqual([
      { usage: 'TMK', slot: 'tmk', version: 2, action: 'generate' },
      { usage: 'TAK', slot: 'tak', version: 2, action: 'generate' },
      { usage: 'TPK', slot: 'tpk', version: 2, action: 'resend', keyId: 'p1' },
    ]);
  });
});

describe('reading a keys.install ack', () => {
  const expected = [{ keyId: 'k1', kcv: 'cmac:ABCDEF' }];
  const result = (kcv: string) => ({ installed: [{ slot: 'tpk', usage: 'TPK', keyId: 'k1', version: 1, kcv }], inventory: [] });
  it('installed only when the KCVs match', () => {
    expect(readInstallAck(result('cmac:ABCDEF'), expected).ok).toBe(true);
    expect(readInstallAck(result('cmac:ABCDE0'), expected)).toMatchObject({ ok: false, code: 'kcv_mismatch', badKeyIds: ['k1'] });
    expect(readInstallAck({ installed: [], inventory: [] }, expected)).toMatchObject({ ok: false, code: 'kcv_mismatch' });
    expect(readInstallAck({ nope: 1 }, expected)).toMatchObject({ ok: false, code: 'bad_result' });
  });
  const u = (state: string, extra: object = {}) => ({ commandId: 'c', state: state as never, stage: null, progress: null, error: null, result: null, ...extra });
  it('campaign verdicts', () => {
    expect(judgeKeyInstall(u('received'), expected)).toEqual({ outcome: 'progress', state: 'sent' });
    expect(judgeKeyInstall(u('succeeded', { result: result('cmac:ABCDEF') }), expected)).toEqual({ outcome: 'succeeded' });
    expect(judgeKeyInstall(u('succeeded', { result: result('cmac:000000') }), expected)).toMatchObject({ outcome: 'failed', code: 'kcv_mismatch', transient: false });
    expect(judgeKeyInstall(u('rejected', { error: { code: 'stale_version', message: 'x' } }), expected)).toMatchObject({ outcome: 'failed', code: 'stale_version', transient: false });
    expect(judgeKeyInstall(u('failed', { error: { code: 'interrupted', message: 'x' } }), expected)).toMatchObject({ outcome: 'failed', transient: true });
  });
});

describe('dual control rules', () => {
  const row = { state: 'pending', requestedBy: 'u1' };
  it('refuses the requester, non-admins and decided requests', () => {
    expect(decisionRefusal(row, { userId: 'u1', role: 'admin' })).toMatchObject({ status: 403, code: 'dual_control' });
    expect(decisionRefusal(row, { userId: 'u2', role: 'operator' })).toMatchObject({ status: 403, code: 'forbidden' });
    expect(decisionRefusal({ ...row, state: 'done' }, { userId: 'u2', role: 'admin' })).toMatchObject({ status: 409 });
    expect(decisionRefusal(row, { userId: 'u2', role: 'admin' })).toBeNull();
  });
});

describe('software vault', () => {
  const master = randomBytes(32);
  const vault = createSoftwareVault({ get: (g) => (g === 1 ? master : undefined), current: () => ({ gen: 1, key: master }) });
  const ref = { keyId: 'key_a', deviceId: 'dev_a', usage: 'TPK' as const, version: 1 };
  const tmkRef = { keyId: 'key_t', deviceId: 'dev_a', usage: 'TMK' as const, version: 1 };
  it('says it is a simulation', () => {
    expect(vault.info()).toMatchObject({ kind: 'software', simulated: true });
    expect(SOFTWARE_VAULT_NOTICE).toMatch(/NOT PCI-certified and NOT an HSM/);
  });
  it('binds a sealed key to id, device, usage and version', () => {
    const k = vault.generate(ref);
    const t = vault.generate(tmkRef);
    const header = { usage: 'TPK' as const, alg: 'AES256' as const, ver: 1, kid: 'key_a', dev: 'dev_a', slot: 'tpk', wk: 'key_t' };
    expect(() => vault.exportUnderTmk({ ref, sealed: k.sealed }, { ref: tmkRef, sealed: t.sealed }, header)).not.toThrow();
    for (const other of [{ ...ref, keyId: 'key_b' }, { ...ref, deviceId: 'dev_b' }, { ...ref, usage: 'TAK' as const }, { ...ref, version: 2 }]) {
      expect(() => vault.exportUnderTmk({ ref: other, sealed: k.sealed }, { ref: tmkRef, sealed: t.sealed }, header)).toThrowError(VaultError);
    }
    expect(k.sealed).not.toContain(master.toString('base64'));
    expect(k.kcv).toMatch(/^cmac:[0-9A-F]{6}$/);
  });
  it('exports a TR-31 block the device opens to the key whose KCV the vault reported, bound to the header asked for', () => {
    const k = vault.generate(ref);
    const t = vault.generate(tmkRef);
    const block = vault.exportUnderTmk({ ref, sealed: k.sealed }, { ref: tmkRef, sealed: t.sealed }, { usage: 'TPK', alg: 'AES256', ver: 1, kid: 'key_a', dev: 'dev_a', slot: 'tpk', wk: 'key_t' });
    // Only a test may peek: it holds the master key, so it opens the sealed TMK itself.
    const tmkClear = (() => {
      const b = Buffer.from(t.sealed, 'base64');
      const d = createDecipheriv('aes-256-gcm', master, b.subarray(4, 16));
      d.setAAD(Buffer.from('posfleet-vault/v1;kid=key_t;dev=dev_a;usage=TMK;ver=1'));
      d.setAuthTag(b.subarray(48));
      return Buffer.concat([d.update(b.subarray(16, 48)), d.final()]);
    })();
    expect(block.format).toBe('tr31');
    const opened = openDeliveryTr31(block.block, tmkClear);
    expect(keyCheckValue(opened.key)).toBe(k.kcv);
    expect(opened.delivery.kcv).toBe(k.kcv);
    expect(headerOfDelivery(opened.delivery, 'TPK')).toEqual({ usage: 'TPK', alg: 'AES256', ver: 1, kid: 'key_a', dev: 'dev_a', slot: 'tpk', wk: 'key_t' });
  });
  it('wraps a device\'s fresh and installed keys under its TMK in one operation, each block opening to its KCV', () => {
    const header = (kid: string, usage: 'TPK' | 'TAK', slot: string) => ({ usage, alg: 'AES256' as const, ver: 1, kid, dev: 'dev_a', slot, wk: 'key_t' });
    const tmkHeader = { usage: 'TMK' as const, alg: 'AES256' as const, ver: 1, kid: 'key_t', dev: 'dev_a', slot: 'tmk', wk: 'KEK' };
    const kek = generateKeyPairSync('x25519');
    const t = vault.generateTmk(tmkRef, tmkHeader, rawX25519Public(kek.publicKey));
    const tmkClear = openTmkBlock(parseBlock(t.block), kek.privateKey);
    expect(keyCheckValue(tmkClear)).toBe(t.kcv);
    const old = vault.generate(ref);
    const takRef = { keyId: 'key_k', deviceId: 'dev_a', usage: 'TAK' as const, version: 1 };
    const out = vault.underTmk({ ref: tmkRef, sealed: t.sealed }, [
      { header: header('key_k', 'TAK', 'tak'), generate: takRef },
      { header: header('key_a', 'TPK', 'tpk'), key: { ref, sealed: old.sealed } },
    ]);
    expect(out).toHaveLength(2);
    expect(out.map((o) => o.block.format)).toEqual(['tr31', 'tr31']);
    expect(keyCheckValue(openDeliveryTr31(out[0]!.block.block, tmkClear).key)).toBe(out[0]!.generated!.kcv);
    expect(keyCheckValue(openDeliveryTr31(out[1]!.block.block, tmkClear).key)).toBe(old.kcv);
    expect(out[1]!.generated).toBeUndefined();
    // The fresh key's sealed form opens later under its own ref only, like any generated key.
    expect(() => vault.exportUnderTmk({ ref: takRef, sealed: out[0]!.generated!.sealed }, { ref: tmkRef, sealed: t.sealed }, header('key_k', 'TAK', 'tak'))).not.toThrow();
    expect(() => vault.underTmk({ ref: { ...tmkRef, version: 2 }, sealed: t.sealed }, [])).toThrowError(VaultError);
    expect(() => vault.underTmk({ ref: tmkRef, sealed: t.sealed }, [{ header: header('key_a', 'TPK', 'tpk'), key: { ref: { ...ref, deviceId: 'dev_b' }, sealed: old.sealed } }])).toThrowError(VaultError);
  });
  it('parses master keys as hex or base64 of 32 bytes', () => {
    const k = randomBytes(32);
    expect(parseMasterKey(k.toString('hex')).equals(k)).toBe(true);
    expect(parseMasterKey(k.toString('base64')).equals(k)).toBe(true);
    expect(() => parseMasterKey('abcd')).toThrow(/32 bytes/);
  });
});

describe('misc', () => {
  it('redacts blocks from key commands shown by the API', () => {
    const cmd = { type: 'keys.install', payload: { items: [{ slot: 'tpk', usage: 'TPK', keyId: 'k', version: 1, kcv: 'cmac:ABCDEF', block: 'UEZLMQ==' }] } };
    expect(JSON.stringify(redactCommand(cmd))).not.toContain('UEZLMQ');
    expect(redactCommand({ type: 'reboot', payload: { a: 1 } })).toEqual({ type: 'reboot', payload: { a: 1 } });
  });
  it('policy cut-off', () => expect(dueBefore(10 * 86_400_000, 3).getTime()).toBe(7 * 86_400_000));
  it('batches calls made together', async () => {
    const sizes: number[] = [];
    const f = createBatcher(async (xs: number[]) => (sizes.push(xs.length), xs.map((x) => x * 2)), { max: 3 });
    expect(await Promise.all([1, 2, 3, 4, 5].map(f))).toEqual([2, 4, 6, 8, 10]);
    expect(sizes).toEqual([3, 2]);
  });
});
