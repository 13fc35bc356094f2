// One conformance suite for every KeyCustody backend (the software simulation and PKCS#11 on a
// real SoftHSM2 token), each over its real master keys in a real database: known check values
// of imported vectors, sealed tokens bound to their ref, ECB derivation equal to the software
// computation, resealing across master-key generations, the transport door wiping what it
// handed out; and, for PKCS#11, that the token never gives a master key's value away.
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ecbEncrypt, kcvOf } from '../../server/keys/custody/clearKeyMath.ts';
import { createSoftwareCustody } from '../../server/keys/custody/softwareCustody.ts';
import { custodyKeyBytes, custodyKeyTypes, VaultError, type CustodyKeyType, type CustodyRef, type KeyCustody } from '../../server/keys/keyCustody.ts';
import { masterLabel, openHsmMasters } from '../../server/keys/pkcs11/hsmMasters.ts';
import { createPkcs11Custody } from '../../server/keys/pkcs11/pkcs11Custody.ts';
import { openToken, P, type Token } from '../../server/keys/pkcs11/token.ts';
import { MasterKeyBusy, openVaultMasters, type MasterGenerations } from '../../server/keys/vaultMasters.ts';
import { keyCheckValue } from '../../schemas/keyCrypto/cmac.ts';
import { createLogger } from '../../server/log.ts';
import { forEachDatabase } from '../helpers/databases.ts';
import { createSoftToken, softhsmMissing, type SoftToken } from '../helpers/softhsm.ts';
import type { Db } from '../../server/db/database.ts';

const log = createLogger('silent');
const hex = (s: string) => Buffer.from(s, 'hex');
// RFC 4493's AES-128 key and SP 800-38B's AES-256 key; X9.24's classic double-length TDES key.
const VECTORS: Array<{ type: CustodyKeyType; key: string; kcv: string }> = [
  { type: 'AES128', key: '2b7e151628aed2a6abf7158809cf4f3c', kcv: 'cmac:7AD386' },
  { type: 'AES256', key: '603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4', kcv: 'cmac:1A0B2D' },
  { type: 'TDES2', key: '0123456789ABCDEFFEDCBA9876543210', kcv: 'enc0:08D7B4' },
];
// SoftHSM2 2.6 has no AES-192 keys (AES-KEY-GEN keySize {16,32}); posfleet uses none.
const TYPES = custodyKeyTypes.filter((t) => t !== 'AES192');

interface Backend {
  custody: KeyCustody;
  masters: MasterGenerations;
  token?: Token;
}

const missing = softhsmMissing();
const backends: Array<{ name: 'software' | 'pkcs11'; skip: string | null; open(db: Db): Promise<Backend & { close(): void }> }> = [
  {
    name: 'software',
    skip: null,
    async open(db) {
      const masters = await openVaultMasters({ db, dataDir: mkdtempSync(join(tmpdir(), 'posfleet-custody-')), log });
      return { custody: createSoftwareCustody(masters), masters, close: () => undefined };
    },
  },
  {
    name: 'pkcs11',
    skip: missing,
    async open(db) {
      const soft: SoftToken = createSoftToken();
      const token = openToken({ library: soft.library, tokenLabel: soft.label, pinFile: soft.pinFile });
      const masters = await openHsmMasters({ db, token, log });
      return {
        custody: createPkcs11Custody(token, masters),
        masters,
        token,
        close() {
          token.close();
          soft.dispose();
        },
      };
    },
  },
];

let n = 0;
const ref = (usage: CustodyRef['usage'] = 'TPK'): CustodyRef => ({ keyId: `key_${++n}`, deviceId: 'dev_a', usage, version: 1 });
const clearOf = (c: KeyCustody, r: CustodyRef, sealed: string) => c.openForTransport({ ref: r, sealed }, (k) => Buffer.from(k));

for (const b of backends) {
  if (b.skip) {
    describe.skip(`key custody conformance [${b.name}]: ${b.skip}`, () => it('skipped', () => undefined));
    continue;
  }
  forEachDatabase(`key custody conformance [${b.name}]`, (getDb) => {
    let be: Backend & { close(): void };
    beforeAll(async () => {
      be = await b.open(getDb());
    });
    afterAll(() => be?.close());

    it('imports known keys with their known check values, and hands the same key back', () => {
      for (const v of VECTORS) {
        const r = ref();
        const s = be.custody.importClear(r, v.type, hex(v.key));
        expect(s.kcv, v.type).toBe(v.kcv);
        expect(clearOf(be.custody, r, s.sealed).toString('hex')).toBe(v.key.toLowerCase());
      }
    });

    it('generates keys of every type whose KCV the custody computed over the key it holds', () => {
      for (const type of TYPES) {
        const r = ref();
        const s = be.custody.generate(r, type);
        expect(s.masterGen).toBe(be.masters.currentGen());
        const clear = clearOf(be.custody, r, s.sealed);
        expect(clear.length, type).toBe(custodyKeyBytes[type]);
        expect(kcvOf(type, clear), type).toBe(s.kcv);
      }
    });

    it('binds a sealed key to id, device, usage and version', () => {
      const r = ref();
      const s = be.custody.generate(r, 'AES256');
      for (const other of [{ ...r, keyId: 'key_other' }, { ...r, deviceId: 'dev_b' }, { ...r, usage: 'TAK' as const }, { ...r, version: 2 }]) {
        expect(() => clearOf(be.custody, other, s.sealed)).toThrowError(VaultError);
      }
      const tampered = Buffer.from(s.sealed, 'base64');
      tampered[tampered.length - 1]! ^= 1;
      expect(() => clearOf(be.custody, r, tampered.toString('base64'))).toThrowError(VaultError);
    });

    it('derives by ECB exactly as the software computation does', () => {
      const aes = ref('BDK');
      const aesKey = hex(VECTORS[1]!.key);
      const base = { ref: aes, sealed: be.custody.importClear(aes, 'AES256', Buffer.from(aesKey)).sealed };
      const tdes = ref('BDK');
      const tdesKey = hex(VECTORS[2]!.key);
      const tdesBase = { ref: tdes, sealed: be.custody.importClear(tdes, 'TDES2', Buffer.from(tdesKey)).sealed };
      const cases: Array<{ base: typeof base; baseType: CustodyKeyType; baseKey: Buffer; type: CustodyKeyType; data: Buffer }> = [
        { base, baseType: 'AES256', baseKey: aesKey, type: 'AES128', data: hex('0101000000000000000000000000abcd') },
        { base, baseType: 'AES256', baseKey: aesKey, type: 'AES256', data: hex('0101000000000000000000000000123401020000000000000000000000001234') },
        { base: tdesBase, baseType: 'TDES2', baseKey: tdesKey, type: 'TDES2', data: hex('FFFF9876543210E0FFFF9876543210E1') },
        // A TDES IPEK half as the DUKPT code holds it: two TDES blocks kept as a 16-byte AES key.
        { base: tdesBase, baseType: 'TDES2', baseKey: tdesKey, type: 'AES128', data: hex('FFFF9876543210E0FFFF9876543210E0') },
      ];
      for (const c of cases) {
        const r = ref('IK');
        const d = be.custody.deriveByEcb(c.base, c.data, r, c.type);
        const expected = ecbEncrypt(c.baseType, c.baseKey, c.data);
        expect(clearOf(be.custody, r, d.sealed).toString('hex'), c.type).toBe(expected.toString('hex'));
        expect(d.kcv).toBe(kcvOf(c.type, expected));
      }
      expect(() => be.custody.deriveByEcb(base, Buffer.alloc(8), ref('IK'), 'AES128')).toThrowError(VaultError);
    });

    it('reseals every key under the next master-key generation, and the old tokens stop opening once it is active', async () => {
      const items = TYPES.map((type) => {
        const r = ref();
        const s = be.custody.generate(r, type);
        return { r, s, clear: clearOf(be.custody, r, s.sealed) };
      });
      const before = be.masters.currentGen();
      const gen = await be.masters.beginReplacement();
      expect(gen).toBe(before + 1);
      const resealed = items.map((i) => {
        const next = be.custody.reseal({ ref: i.r, sealed: i.s.sealed });
        expect(next?.masterGen).toBe(gen);
        expect(next?.kcv).toBe(i.s.kcv);
        return next!;
      });
      await be.masters.finishReplacement();
      expect(be.masters.currentGen()).toBe(gen);
      items.forEach((i, k) => {
        expect(clearOf(be.custody, i.r, resealed[k]!.sealed).equals(i.clear)).toBe(true);
        expect(be.custody.reseal({ ref: i.r, sealed: resealed[k]!.sealed })).toBeNull();
        expect(() => clearOf(be.custody, i.r, i.s.sealed)).toThrowError(/unknown master-key generation/);
      });
    });

    it('takes an imported master key as the next generation, refuses another meanwhile, and seals import components per request', async () => {
      const imported = randomBytes(32);
      const r = ref();
      const s = be.custody.generate(r, 'AES256');
      const gen = await be.masters.beginReplacement(Buffer.from(imported));
      expect(be.masters.generations().next).toEqual({ gen, kcv: keyCheckValue(imported) });
      expect(be.masters.holds(imported)).toBe(true);
      await expect(be.masters.beginReplacement(randomBytes(32))).rejects.toBeInstanceOf(MasterKeyBusy);
      const next = be.custody.reseal({ ref: r, sealed: s.sealed })!;
      await be.masters.finishReplacement();
      expect(be.masters.generations().active).toEqual({ gen, kcv: keyCheckValue(imported) });
      expect(clearOf(be.custody, r, next.sealed).length).toBe(32);
      const component = randomBytes(32);
      const sealed = be.masters.sealComponent('kap_1', component);
      expect(be.masters.openComponent('kap_1', sealed)?.equals(component)).toBe(true);
      expect(be.masters.openComponent('kap_2', sealed)).toBeNull();
    });

    it('wipes the clear key the transport door handed out once the wrap returns, also when it throws', () => {
      const r = ref();
      const v = VECTORS[0]!;
      const sealed = be.custody.importClear(r, v.type, hex(v.key)).sealed;
      let seen: Buffer | undefined;
      const out = be.custody.openForTransport({ ref: r, sealed }, (k) => {
        seen = k;
        return k.toString('hex');
      });
      expect(out).toBe(v.key);
      expect(seen!.every((x) => x === 0)).toBe(true);
      expect(() =>
        be.custody.openForTransport({ ref: r, sealed }, (k) => {
          seen = k;
          throw new Error('wrap failed');
        }),
      ).toThrow('wrap failed');
      expect(seen!.every((x) => x === 0)).toBe(true);
    });

    it('wipes a key entered in the clear once it is sealed', () => {
      const clear = hex(VECTORS[1]!.key);
      be.custody.importClear(ref(), 'AES256', clear);
      expect(clear.every((x) => x === 0)).toBe(true);
    });

    if (b.name === 'pkcs11') {
      it('keeps the master key inside the token: sensitive, never extractable, its value refused', () => {
        const token = be.token!;
        const [h, ...more] = token.findByLabel(masterLabel(be.masters.currentGen()));
        expect(h).toBeDefined();
        expect(more).toEqual([]);
        // Earlier generations were destroyed once every key was resealed past them.
        for (let g = 1; g < be.masters.currentGen(); g++) expect(token.findByLabel(masterLabel(g))).toEqual([]);
        const attrs = token.p11.C_GetAttributeValue(token.session, h!, [{ type: P.CKA_SENSITIVE }, { type: P.CKA_EXTRACTABLE }, { type: P.CKA_TOKEN }]);
        expect(attrs.map((a) => a.value[0])).toEqual([1, 0, 1]);
        expect(() => token.p11.C_GetAttributeValue(token.session, h!, [{ type: P.CKA_VALUE }])).toThrow(/CKR_ATTRIBUTE_SENSITIVE/);
        expect(be.custody.info()).toMatchObject({ kind: 'pkcs11', simulated: true, token: { manufacturer: 'SoftHSM project', model: 'SoftHSM v2' } });
      });

      it('leaves no session key behind: every key it made for an operation is destroyed', () => {
        const token = be.token!;
        const r = ref();
        const s = be.custody.generate(r, 'AES256');
        clearOf(be.custody, r, s.sealed);
        token.p11.C_FindObjectsInit(token.session, [{ type: P.CKA_TOKEN, value: false }]);
        const left = token.p11.C_FindObjects(token.session, 100);
        token.p11.C_FindObjectsFinal(token.session);
        expect(left).toHaveLength(0);
      });
    }
  });
}
