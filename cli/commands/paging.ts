// The API's cursor pages as the CLI walks them: one page for a list (its cursor hinted on
// stderr), or every page for an export.
import type { Ctx } from '../context.ts';

export interface PageOf<T> {
  items: T[];
  nextCursor: string | null;
}

/** Tells how to get the next page, on stderr so `--json` output stays one document. */
export function hintNext(ctx: Ctx, page: { nextCursor: string | null }): void {
  if (page.nextCursor) ctx.out.note(`more: add --cursor ${page.nextCursor}`);
}

/** Every item, page by page; `fetchPage(cursor)` reads one. */
export async function* allPages<T>(fetchPage: (cursor: string | undefined) => Promise<PageOf<T>>): AsyncGenerator<T> {
  let cursor: string | undefined;
  do {
    const page = await fetchPage(cursor);
    yield* page.items;
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
}
