// Column builders every table file shares, so that a moment, a row's public id and its
// created/updated stamps are spelled one way across the schema (the released migrations say what
// they must produce; `npm run db:generate` finds no change).
import { text, timestamp } from 'drizzle-orm/pg-core';

/** A moment: `timestamptz`, read as a Date. */
export const ts = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

/** When the row was written, set by the database. */
export const createdAt = () => ts('created_at').notNull().defaultNow();

/** When the row last changed: the database sets it on insert, the code on every update. */
export const updatedAt = () => ts('updated_at').notNull().defaultNow();

/** The row's public id (`dev_…`, `cmd_…`: server/core/ids.ts) as its primary key. */
export const publicId = () => text('id').primaryKey();
