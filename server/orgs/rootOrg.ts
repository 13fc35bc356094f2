// The root node: created by migration 0006 (existing installs land in it). Re-created here for a
// database emptied under a running server (tests' truncateAll): every user, merchant and terminal
// defaults to it, so it must exist before any of them is written.
import { organisations, ROOT_ORG_ID, ROOT_ORG_PATH } from '../../schemas/db.ts';
import type { Tx } from '../core/transaction.ts';
import type { Db } from '../db/database.ts';

export async function ensureRootOrganisation(db: Db | Tx): Promise<void> {
  await db.insert(organisations).values({ id: ROOT_ORG_ID, parentId: null, name: 'Root', path: ROOT_ORG_PATH }).onConflictDoNothing();
}
