// The `name = value` lines of a fenced block of a docs page, docs/keys.md unless told
// (```<fence> … ```): the worked examples the unit tests recompute, so the documented bytes
// cannot drift from the code.
import { readFileSync } from 'node:fs';

export function documentedVectors(fence: string, page = 'keys.md'): Record<string, string> {
  const doc = readFileSync(new URL(`../../docs/${page}`, import.meta.url), 'utf8');
  const block = new RegExp('```' + fence + '\\n([\\s\\S]*?)```').exec(doc)?.[1] ?? '';
  const entries: Array<[string, string]> = [];
  for (const line of block.trim().split('\n')) {
    const at = line.indexOf(' = ');
    if (at > 0) entries.push([line.slice(0, at), line.slice(at + 3)]);
  }
  return Object.fromEntries(entries);
}
