// The organisation tree (issue #14): acquirer → agent → sub-agent, any depth. Every user, merchant
// and terminal belongs to one node (`org_id`); a user sees and acts within its node's subtree.
// `path` is the materialised path of ids from the root, `/org_root/org_a/`, so a subtree is one
// prefix match (`path LIKE '/org_root/org_a/%'`) and a node's ancestors are the ids in its path.
import { index, pgTable, text, uniqueIndex, type AnyPgColumn } from 'drizzle-orm/pg-core';
import { createdAt, publicId } from './columns.ts';

/** The node the migration creates; existing users, merchants and terminals all land in it. */
export const ROOT_ORG_ID = 'org_root';
export const ROOT_ORG_PATH = `/${ROOT_ORG_ID}/`;

export const organisations = pgTable(
  'organisations',
  {
    id: publicId(),
    /** Null for the root only. Nodes are never re-parented: a path, once written, stays. */
    parentId: text('parent_id').references((): AnyPgColumn => organisations.id),
    name: text('name').notNull(),
    path: text('path').notNull(),
    createdBy: text('created_by'),
    createdAt: createdAt(),
  },
  (t) => [
    // text_pattern_ops: a btree that serves `LIKE 'prefix%'` whatever the database's collation.
    uniqueIndex('organisations_path_uq').on(t.path.op('text_pattern_ops')),
    index('organisations_parent_idx').on(t.parentId),
  ],
);

export type OrganisationRow = typeof organisations.$inferSelect;
