// Master-key import under dual control and split knowledge (SPEC §5, docs/keys.md "Key
// ceremony"): the requesting admin gives key component 1, another admin approves with component 2,
// and the vault's new master key is their XOR. Component 1 waits only sealed under the current
// master key in the request row; component 2 is never stored; the key itself is written only where
// the master key lives (DATA_DIR/master.key.next, then master.key) and every stored key is
// re-encrypted under it by the replacement path (masterKeyReplacement.ts). Only KCVs come back.
import { keyCheckValue } from '../../schemas/keyCrypto/cmac.ts';
import type { KeyApprovalRow } from '../../schemas/tables/keys.ts';
import { badRequest, conflict } from '../errors.ts';
import { ActionFailed, type ActionHooks, type RequestSecret } from './dualControl.ts';
import { combineComponents, isAllZero, parseComponent } from './keyComponents.ts';
import { MasterKeyBusy, type MasterGenerations } from './vaultMasters.ts';

/** A pending import request (and its sealed component 1) lives this long. */
export const IMPORT_REQUEST_TTL_MS = 24 * 3_600_000;

export const MASTER_KEY_EXTERNAL_MESSAGE =
  'the master key comes from KEY_VAULT_MASTER_KEY: the server can neither replace nor import it there. Move the current key into DATA_DIR/master.key, unset KEY_VAULT_MASTER_KEY and restart, then run the ceremony (docs/keys.md, "Key ceremony")';

function parse(hex: string, n: 1 | 2): Buffer {
  try {
    return parseComponent(hex);
  } catch (err) {
    throw badRequest('bad_component', `key component ${n} must be 64 hex digits (32 bytes)`, undefined, { cause: err });
  }
}

export function createMasterKeyImport(deps: { masters(): MasterGenerations }) {
  function available(): MasterGenerations {
    const m = deps.masters();
    if (m.from === 'env') throw conflict('master_key_external', MASTER_KEY_EXTERNAL_MESSAGE);
    if (m.replacing()) throw conflict('master_key_busy', 'a master-key replacement or import is under way; wait until it is done');
    return m;
  }

  const hooks: ActionHooks = {
    async approve(row: KeyApprovalRow, input) {
      if (input?.component === undefined) throw badRequest('component_required', 'approving a master-key import takes key component 2: {"component": "<64 hex digits>"}');
      const c2 = parse(input.component, 2);
      let c1: Buffer | null = null;
      let key: Buffer | null = null;
      try {
        const m = available();
        if (isAllZero(c2)) throw conflict('component_zero', 'key component 2 is all zeros');
        c1 = row.sealed ? m.openComponent(row.id, row.sealed) : null;
        if (!c1) throw conflict('component_unreadable', 'key component 1 of this request no longer opens (the master key changed since); request the import again');
        key = combineComponents(c1, c2);
        if (isAllZero(key)) throw conflict('key_zero', 'component 2 equals component 1: the key would be all zeros');
        if (m.holds(key)) throw conflict('key_is_current', 'component 1 XOR component 2 is the current master key: there is nothing to import');
        const params = { component2Kcv: keyCheckValue(c2), keyKcv: keyCheckValue(key) };
        const imported = key;
        key = null; // from here on the prepared approval owns (and wipes) it
        return {
          params,
          async commit() {
            try {
              await m.beginReplacement(imported);
            } catch (err) {
              if (err instanceof MasterKeyBusy) throw conflict('master_key_busy', err.message, undefined, { cause: err });
              throw err;
            }
          },
          dispose: () => void imported.fill(0),
        };
      } finally {
        c2.fill(0);
        c1?.fill(0);
        key?.fill(0);
      }
    },
  };

  return {
    hooks,
    /** Component 1 with the request: checked, its KCV (params) and the sealed form for the row. */
    request(componentHex: string): { params: { component1Kcv: string }; secret: RequestSecret; dispose(): void } {
      const c1 = parse(componentHex, 1);
      try {
        const m = available();
        if (isAllZero(c1)) throw conflict('component_zero', 'key component 1 is all zeros');
        return { params: { component1Kcv: keyCheckValue(c1) }, secret: { seal: (id) => m.sealComponent(id, c1), ttlMs: IMPORT_REQUEST_TTL_MS }, dispose: () => void c1.fill(0) };
      } catch (err) {
        c1.fill(0);
        throw err;
      }
    },
    /** For the executor: the generation the imported key waits as (or already is). */
    generationOf(row: KeyApprovalRow): number {
      const kcv = row.params.keyKcv;
      const g = deps.masters().generations();
      if (g.next && g.next.kcv === kcv) return g.next.gen;
      if (!g.next && g.active.kcv === kcv) return g.active.gen;
      throw new ActionFailed('import_lost', 'the imported key is not waiting as the next master key (the approval was cut short before it was stored); run the ceremony again');
    },
  };
}

export type MasterKeyImport = ReturnType<typeof createMasterKeyImport>;
