// Which custody holds the keys (KEY_VAULT): the software simulation under master-key files, or a
// PKCS#11 token whose master keys are token objects. Opened at the keys module's start; the vault
// is built before then over a custody that forwards to the one opened.
import type { Config } from '../../config.ts';
import type { Db } from '../../db/database.ts';
import type { Logger } from '../../log.ts';
import type { KeyCustody } from '../keyCustody.ts';
import { openHsmMasters } from '../pkcs11/hsmMasters.ts';
import { createPkcs11Custody } from '../pkcs11/pkcs11Custody.ts';
import { openToken } from '../pkcs11/token.ts';
import { openVaultMasters, type MasterGenerations } from '../vaultMasters.ts';
import { createSoftwareCustody } from './softwareCustody.ts';

export interface OpenedCustody {
  custody: KeyCustody;
  masters: MasterGenerations;
  close(): void;
}

type VaultConfig = Pick<Config, 'KEY_VAULT' | 'KEY_VAULT_MASTER_KEY' | 'HSM_PKCS11_LIBRARY' | 'HSM_SLOT' | 'HSM_TOKEN_LABEL' | 'HSM_PIN_FILE'>;

export async function openCustody(opts: { config: VaultConfig; db: Db; dataDir: string; log: Logger }): Promise<OpenedCustody> {
  const { config, db, log } = opts;
  if (config.KEY_VAULT === 'software') {
    const masters = await openVaultMasters({ db, dataDir: opts.dataDir, fromEnv: config.KEY_VAULT_MASTER_KEY, log });
    return { custody: createSoftwareCustody(masters), masters, close: () => undefined };
  }
  // loadConfig has checked these are set; a config built otherwise gets the same words.
  if (!config.HSM_PKCS11_LIBRARY || !config.HSM_PIN_FILE) throw new Error('KEY_VAULT=pkcs11 needs HSM_PKCS11_LIBRARY and HSM_PIN_FILE');
  const token = openToken({ library: config.HSM_PKCS11_LIBRARY, pinFile: config.HSM_PIN_FILE, ...(config.HSM_SLOT !== undefined ? { slot: config.HSM_SLOT } : { tokenLabel: config.HSM_TOKEN_LABEL }) });
  try {
    const masters = await openHsmMasters({ db, token, log });
    return { custody: createPkcs11Custody(token, masters), masters, close: () => token.close() };
  } catch (err) {
    token.close();
    throw err;
  }
}

/** A custody that forwards to the one `current` returns (opened at start). */
export function forwardingCustody(current: () => KeyCustody): KeyCustody {
  return {
    info: () => current().info(),
    generate: (ref, type) => current().generate(ref, type),
    importClear: (ref, type, clear) => current().importClear(ref, type, clear),
    deriveByEcb: (base, data, ref, type) => current().deriveByEcb(base, data, ref, type),
    openForTransport: (key, wrap) => current().openForTransport(key, wrap),
    reseal: (key) => current().reseal(key),
  };
}
