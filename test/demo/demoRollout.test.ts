// The rollout the demo banner offers: `npm run demo:rollout` signs a sample image with the demo's
// own publisher key, uploads it and rolls it out to the demo fleet until the rollout is final.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoPublisherFiles } from '../../scripts/demo/publisher.ts';
import { demoEnv, killAll, startDemo, type DemoRun } from './demoProcess.ts';

const DEVICES = 5;

function runRollout(env: NodeJS.ProcessEnv, children: Set<ChildProcess>): Promise<{ code: number | null; out: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/demo/rollout.ts'], {
    cwd: join(import.meta.dirname, '..', '..'),
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let out = '';
  child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (out += b.toString()));
  return new Promise((resolve) =>
    child.once('exit', (code) => {
      children.delete(child);
      resolve({ code, out });
    }),
  );
}

// On the embedded default only: demo:rollout speaks to the API alone, and the demo on PostgreSQL
// (its start, restart and fleet) is demoRestart.test.ts's; a second 25 s pass would check nothing more.
describe('demo rollout [pglite]', () => {
  const children = new Set<ChildProcess>();
  let dataDir = '';
  let env: NodeJS.ProcessEnv = {};
  let demo: DemoRun | undefined;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'pf-demo-rollout-'));
    env = demoEnv(dataDir, undefined, DEVICES);
    demo = await startDemo(env, children);
  }, 100_000);

  afterAll(async () => {
    await killAll(children);
    rmSync(dataDir, { recursive: true, force: true });
  }, 60_000);

  it('the demo keeps its own publisher key, owner-only, and names the rollout command', () => {
    expect(statSync(demoPublisherFiles(dataDir).key).mode & 0o777).toBe(0o600);
    expect(demo!.output()).toContain('npm run demo:rollout');
  });

  it('demo:rollout signs, uploads and rolls a sample image out to the whole demo fleet until succeeded', async () => {
    const { code, out } = await runRollout(env, children);
    expect(out).toMatch(/^uploaded demo-os 1\.0\.1 \(fw_[^)]+\), signed with the demo publisher key$/m);
    expect(out).toMatch(new RegExp(`^rollout cmp_\\S+ succeeded: succeeded ${DEVICES}$`, 'm'));
    expect(code).toBe(0);
    const summary = await demo!.api()<{ byFirmware: Record<string, number> }>('GET', '/v1/fleet/summary');
    expect(summary.body.byFirmware).toEqual({ '1.0.1': DEVICES });
  }, 120_000);

  it('demo:rollout without a running demo says what to start', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'pf-demo-none-'));
    const { code, out } = await runRollout({ ...env, DATA_DIR: empty }, children);
    rmSync(empty, { recursive: true, force: true });
    expect(code).toBe(1);
    expect(out).toContain('start `npm run demo` first, with the same DATA_DIR');
  }, 30_000);
});
