// Reads a .cpuprofile and prints the self time of the heaviest functions and files:
//   npx tsx scripts/bench/profileSummary.ts /tmp/server.cpuprofile [--top 40] [--filter text]
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples?: number[];
  timeDeltas?: number[];
}

const [file, ...rest] = process.argv.slice(2);
if (!file) throw new Error('usage: profileSummary.ts <file.cpuprofile> [--top N] [--filter text]');
const top = Number(rest[rest.indexOf('--top') + 1] ?? 40) || 40;
const filter = rest.includes('--filter') ? rest[rest.indexOf('--filter') + 1] : undefined;
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;

const selfById = new Map<number, number>();
const samples = profile.samples ?? [];
const deltas = profile.timeDeltas ?? [];
for (let i = 0; i < samples.length; i++) selfById.set(samples[i]!, (selfById.get(samples[i]!) ?? 0) + (deltas[i] ?? 0));
const total = [...selfById.values()].reduce((a, b) => a + b, 0);

const shortUrl = (url: string) => url.replace(/^file:\/\//, '').replace(/.*\/node_modules\//, 'nm:').replace(/.*\/work\/main\//, '');
const byFn = new Map<string, number>();
const byFile = new Map<string, number>();
for (const node of profile.nodes) {
  const self = selfById.get(node.id) ?? 0;
  if (!self) continue;
  const { functionName, url, lineNumber } = node.callFrame;
  const where = shortUrl(url) || '(native)';
  const fnKey = `${functionName || '(anonymous)'}  ${where}:${lineNumber + 1}`;
  byFn.set(fnKey, (byFn.get(fnKey) ?? 0) + self);
  const fileKey = url.includes('node_modules/') ? where.split('/').slice(0, where.startsWith('nm:@') ? 2 : 1).join('/') : where;
  byFile.set(fileKey, (byFile.get(fileKey) ?? 0) + self);
}

const print = (title: string, m: Map<string, number>) => {
  console.log(`\n${title} (total ${(total / 1e6).toFixed(2)} s sampled)`);
  [...m.entries()]
    .filter(([k]) => !filter || k.includes(filter))
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .forEach(([k, v]) => console.log(`${((100 * v) / total).toFixed(1).padStart(5)} %  ${(v / 1e3).toFixed(0).padStart(7)} ms  ${k}`));
};
print('self time by function', byFn);
print('self time by file or package', byFile);
