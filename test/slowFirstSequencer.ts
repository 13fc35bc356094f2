// Files run longest first, so the two workers finish together instead of one waiting on a long
// file that happened to start last. Vitest orders by the durations it cached on an earlier run,
// but CI starts from a fresh clone with no cache: there the durations committed in
// test/durations.json (`npm run test:durations` rewrites it) stand in. A file in neither (a new
// one) counts as slow, as vitest counts unknown files.
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';
import { z } from 'zod';

const committed = z.record(z.string(), z.number()).parse(JSON.parse(readFileSync(new URL('./durations.json', import.meta.url), 'utf8')));
const UNKNOWN_S = 30;

export class SlowFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const seconds = (spec: TestSpecification) => {
      const path = relative(this.ctx.config.root, spec.moduleId);
      const cached = this.ctx.cache.getFileTestResults(`${spec.project.name}:${path}`);
      return cached ? cached.duration / 1000 : (committed[path] ?? UNKNOWN_S);
    };
    const group = (spec: TestSpecification) => spec.project.config.sequence.groupOrder;
    return [...files].sort((a, b) => group(a) - group(b) || seconds(b) - seconds(a));
  }
}
