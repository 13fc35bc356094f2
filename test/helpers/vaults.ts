// Runs a server-backed key suite on every key custody: the software vault on every database
// engine, and PKCS#11 (a fresh SoftHSM2 token, test/helpers/softhsm.ts) on the first engine, so
// the HSM path runs end to end without doubling every suite. Without softhsm2-util the PKCS#11
// cases are skipped, named with the reason.
//
//   for (const v of vaultMatrix()) describe.skipIf(v.skip)(`key controls [${v.name}]`, () => {
//     beforeAll(async () => { vault = v.open(); t = await startTestServer({ database: v.database, env: vault.env }); });
//     afterAll(async () => { await t.stop(); vault.dispose(); });
//   });
import { databaseKinds, type DatabaseKind } from './databases.ts';
import { createSoftToken, softhsmMissing } from './softhsm.ts';

export type VaultKind = 'software' | 'pkcs11';

export interface VaultSetup {
  /** Server settings selecting this custody. */
  env: Record<string, string>;
  dispose(): void;
}

export interface VaultCase {
  /** `pglite`, `postgres`, `pglite, pkcs11`… for describe names. */
  name: string;
  database: DatabaseKind;
  vault: VaultKind;
  /** Why this case cannot run here (it is then skipped), or false. */
  skip: string | false;
  open(): VaultSetup;
}

export function vaultMatrix(): VaultCase[] {
  const dbs = databaseKinds();
  const software = dbs.map((database): VaultCase => ({ name: database, database, vault: 'software', skip: false, open: () => ({ env: {}, dispose: () => undefined }) }));
  const missing = softhsmMissing();
  const pkcs11: VaultCase = {
    name: `${dbs[0]!}, pkcs11${missing ? ` — skipped: ${missing}` : ''}`,
    database: dbs[0]!,
    vault: 'pkcs11',
    skip: missing ?? false,
    open: () => createSoftToken(),
  };
  return [...software, pkcs11];
}
