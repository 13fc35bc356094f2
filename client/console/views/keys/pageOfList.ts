// Paging of a list a route answers whole (dual-control requests: the newest 200; BDKs): the page
// shown and whether there is a next one, so such lists page like the cursor-paged ones.
export function pageOfList<T>(items: readonly T[], index: number, size: number): { items: T[]; hasNext: boolean } {
  const start = Math.max(0, index) * size;
  return { items: items.slice(start, start + size), hasNext: start + size < items.length };
}
