// BDK ceremonies under dual control (SPEC §5, docs/keys.md "BDK ceremony"): one admin requests the
// import of a DUKPT base derivation key with component 1 (or its generation), another approves
// with component 2; the BDK is component 1 XOR component 2 and lives only sealed in the vault.
// Component 1 waits sealed in the custody, bound to the request; component 2 is never stored.
// Only KCVs come back: of each component and of the result.
//
// The XOR of the components happens in server memory, inside the custody's transport door
// (standard PKCS#11 and SoftHSM2 lack CKM_XOR_BASE_AND_DATA), as in the master-key import.
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { eq, or } from 'drizzle-orm';
import { kcv } from '../../../schemas/keyCrypto/kcv.ts';
import { dukptSchemes, type DukptScheme } from '../../../schemas/keys.ts';
import { bdks, type KeyApprovalRow } from '../../../schemas/tables/keys.ts';
import { newId } from '../../core/ids.ts';
import type { Db } from '../../db/database.ts';
import { badRequest, conflict } from '../../errors.ts';
import { ActionFailed, type ActionHooks, type ApprovalInput, type PreparedApproval, type RequestSecret } from '../dualControl.ts';
import { isAllZero } from '../keyComponents.ts';
import { VaultError, type CustodyRef, type KeyCustody, type SealedKey } from '../keyCustody.ts';
import { IMPORT_REQUEST_TTL_MS } from '../masterKeyImport.ts';
import { keySetIdBytes, maxDerivationId, parseSchemeKey, schemeKeys, TDES_BDK_MASK, xorBytes } from './dukptMath.ts';

/** Where a BDK and (TDES) its variant are sealed: bound to the BDK's id, of no device. */
export const bdkRef = (bdkId: string): CustodyRef => ({ keyId: bdkId, deviceId: '-', usage: 'BDK', version: 1 });
export const bdkVariantRef = (bdkId: string): CustodyRef => ({ keyId: `${bdkId}.variant`, deviceId: '-', usage: 'BDK', version: 1 });
/** Component 1 of a pending import, sealed for that request only. */
const componentRef = (approvalId: string): CustodyRef => ({ keyId: approvalId, deviceId: 'component-1', usage: 'BDK', version: 1 });

const keySetId = z.string().regex(/^([0-9A-Fa-f]{8}|[0-9A-Fa-f]{10})$/, 'a key set id is 8 hex digits (AES) or 10 (TDES)');
/** A BDK component: 32 hex digits (AES-128, TDES) or 64 (AES-256). Only its KCV is ever returned. */
export const bdkComponentHex = /^([0-9A-Fa-f]{32}|[0-9A-Fa-f]{64})$/;

const common = {
  reason: z.string().min(1).max(500),
  name: z.string().min(1).max(64),
  scheme: z.enum(dukptSchemes),
  /** The first derivation id handed to a terminal (AES: second half of its initial key id). */
  firstDerivationId: z.number().int().min(0).max(2 ** 32 - 1).optional(),
};
export const bdkImportRequest = z.object({ action: z.literal('bdk.import'), ...common, keySetId, component: z.string().regex(bdkComponentHex, 'a BDK component is 32 or 64 hex digits') }).strict();
export const bdkGenerateRequest = z.object({ action: z.literal('bdk.generate'), ...common, keySetId: keySetId.optional() }).strict();
export type BdkRequest = z.infer<typeof bdkImportRequest> | z.infer<typeof bdkGenerateRequest>;

/** What a BDK request records (public: ids and KCVs). */
const requestParams = z.looseObject({ bdkId: z.string(), name: z.string(), scheme: z.enum(dukptSchemes), keySetId: z.string(), firstDerivationId: z.number().int() });

function componentOf(scheme: DukptScheme, text: string, n: 1 | 2): Buffer {
  const c = parseSchemeKey(scheme, text);
  if (!c) throw badRequest('bad_component', `a ${scheme} BDK component ${n} is ${schemeKeys[scheme].bytes * 2} hex digits`);
  if (isAllZero(c)) throw conflict('component_zero', `BDK component ${n} is all zeros`);
  return c;
}

export function createBdkCeremony(deps: { db: Db; custody: () => KeyCustody }) {
  const { db } = deps;

  async function checkFree(name: string, set: string) {
    const taken = await db.select({ id: bdks.id }).from(bdks).where(or(eq(bdks.name, name), eq(bdks.keySetId, set))).limit(1);
    if (taken.length) throw conflict('bdk_exists', `a BDK named ${name} or with key set id ${set} exists`);
  }

  /** The BDK sealed (and TDES its variant), ready to store as the request's row once the approval commits. */
  function sealBdk(row: KeyApprovalRow, p: z.infer<typeof requestParams>, origin: 'imported' | 'generated', sealed: SealedKey, variant: SealedKey | null): PreparedApproval['commit'] {
    return async () => {
      await db.insert(bdks).values({
        id: p.bdkId,
        name: p.name,
        scheme: p.scheme,
        keySetId: p.keySetId,
        kcv: sealed.kcv,
        sealed: sealed.sealed,
        variantSealed: variant?.sealed ?? null,
        masterGen: sealed.masterGen,
        origin,
        nextDerivationId: p.firstDerivationId,
        requestId: row.id,
        createdBy: row.requestedBy,
      });
    };
  }

  /** TDES: the BDK variant, formed where the BDK is clear (the ceremony, or the transport door for a generated one). */
  function sealVariant(bdkId: string, clear: Buffer): SealedKey {
    return deps.custody().importClear(bdkVariantRef(bdkId), 'TDES2', xorBytes(clear, TDES_BDK_MASK));
  }

  const importHooks: ActionHooks = {
    async approve(row, input: ApprovalInput | undefined) {
      const p = requestParams.parse(row.params);
      if (input?.component === undefined) throw badRequest('component_required', 'approving a BDK import takes component 2: {"component": "<hex>"}');
      const c2 = componentOf(p.scheme, input.component, 2);
      try {
        await checkFree(p.name, p.keySetId);
        const sealedC1 = row.sealed;
        if (!sealedC1) throw conflict('component_unreadable', 'component 1 of this request is gone; request the import again');
        const custody = deps.custody();
        const { type, kcvMethod } = schemeKeys[p.scheme];
        const made = (() => {
          try {
            return custody.openForTransport({ ref: componentRef(row.id), sealed: sealedC1 }, (c1) => {
              const key = xorBytes(c1, c2);
              try {
                if (isAllZero(key)) throw conflict('key_zero', 'component 2 equals component 1: the BDK would be all zeros');
                const variant = p.scheme === 'tdes' ? sealVariant(p.bdkId, key) : null;
                return { sealed: custody.importClear(bdkRef(p.bdkId), type, Buffer.from(key)), variant };
              } finally {
                key.fill(0);
              }
            });
          } catch (err) {
            if (err instanceof VaultError) throw conflict('component_unreadable', 'component 1 of this request no longer opens (the master key changed since); request the import again', undefined, { cause: err });
            throw err;
          }
        })();
        const params = { component2Kcv: kcv(kcvMethod, c2), keyKcv: made.sealed.kcv };
        return { params, commit: sealBdk(row, p, 'imported', made.sealed, made.variant), dispose: () => undefined };
      } finally {
        c2.fill(0);
      }
    },
  };

  const generateHooks: ActionHooks = {
    async approve(row, input) {
      if (input?.component !== undefined) throw badRequest('component_not_expected', 'a BDK generation takes no key component');
      const p = requestParams.parse(row.params);
      await checkFree(p.name, p.keySetId);
      const custody = deps.custody();
      const sealed = custody.generate(bdkRef(p.bdkId), schemeKeys[p.scheme].type);
      // The variant needs the BDK clear once: the transport door, documented in docs/keys.md ("BDK ceremony").
      const variant = p.scheme === 'tdes' ? custody.openForTransport({ ref: bdkRef(p.bdkId), sealed: sealed.sealed }, (clear) => sealVariant(p.bdkId, clear)) : null;
      return { params: { keyKcv: sealed.kcv }, commit: sealBdk(row, p, 'generated', sealed, variant), dispose: () => undefined };
    },
  };

  return {
    hooks: { 'bdk.import': importHooks, 'bdk.generate': generateHooks },

    /** A new request's public params (and, for an import, component 1 to seal). */
    async request(b: BdkRequest): Promise<{ params: Record<string, unknown>; secret?: RequestSecret; dispose(): void }> {
      const set = (b.keySetId ?? '').toUpperCase() || randomKeySetId(b.scheme);
      if (set.length !== keySetIdBytes(b.scheme) * 2) throw badRequest('bad_key_set_id', `a ${b.scheme} key set id is ${keySetIdBytes(b.scheme) * 2} hex digits`);
      const first = b.firstDerivationId ?? 1;
      if (first > maxDerivationId(b.scheme)) throw badRequest('validation_failed', `a ${b.scheme} derivation id is at most ${maxDerivationId(b.scheme)}`);
      await checkFree(b.name, set);
      const params = { bdkId: newId('bdk'), name: b.name, scheme: b.scheme, keySetId: set, firstDerivationId: first };
      if (b.action === 'bdk.generate') return { params, dispose: () => undefined };
      const c1 = componentOf(b.scheme, b.component, 1);
      const type = schemeKeys[b.scheme].type;
      return {
        params: { ...params, component1Kcv: kcv(schemeKeys[b.scheme].kcvMethod, c1) },
        secret: { seal: (approvalId) => deps.custody().importClear(componentRef(approvalId), type, Buffer.from(c1)).sealed, ttlMs: IMPORT_REQUEST_TTL_MS },
        dispose: () => void c1.fill(0),
      };
    },

    /** The executor of both actions: the approver is known now. */
    async finish(row: KeyApprovalRow): Promise<Record<string, unknown>> {
      const p = requestParams.parse(row.params);
      const [done] = await db.update(bdks).set({ approvedBy: row.decidedBy }).where(eq(bdks.requestId, row.id)).returning({ id: bdks.id, kcv: bdks.kcv });
      if (!done) throw new ActionFailed('bdk_lost', 'the approved BDK was not stored (the approval was cut short); run the ceremony again');
      return { bdkId: p.bdkId, kcv: done.kcv };
    },
  };
}

const randomKeySetId = (scheme: DukptScheme) => randomBytes(keySetIdBytes(scheme)).toString('hex').toUpperCase();

export type BdkCeremony = ReturnType<typeof createBdkCeremony>;
