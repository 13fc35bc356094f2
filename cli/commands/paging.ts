// The API's cursor pages as the CLI shows them: one page per command, the next one's cursor hinted.
import type { Ctx } from '../context.ts';

/** Tells how to get the next page, on stderr so `--json` output stays one document. */
export function hintNext(ctx: Ctx, page: { nextCursor: string | null }): void {
  if (page.nextCursor) ctx.out.note(`more: add --cursor ${page.nextCursor}`);
}
