// The software vault: the key blocks (vaultOperations.ts) over the software custody, a
// SIMULATION of an HSM (custody/softwareCustody.ts), under master keys kept in files.
import { createSoftwareCustody, type MasterKeys } from './custody/softwareCustody.ts';
import type { KeyVault } from './keyVault.ts';
import { createKeyVault } from './vaultOperations.ts';

export { SOFTWARE_VAULT_NOTICE, type MasterKeys } from './custody/softwareCustody.ts';
export { sealedGen, VaultError } from './keyCustody.ts';

export const createSoftwareVault = (masters: MasterKeys): KeyVault => createKeyVault(createSoftwareCustody(masters));
