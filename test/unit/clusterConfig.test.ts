import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../server/config.ts';
import { instanceIdOf } from '../../server/cluster/cluster.ts';

const NO_FILE = '/nonexistent/posfleet.env';

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env, NO_FILE);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe('cluster settings', () => {
  it('refuses CLUSTER on the embedded PGlite, saying to set DATABASE_URL', () => {
    const problems = problemsOf({ CLUSTER: 'true', REDIS_URL: 'redis://127.0.0.1:6379', SHARED_DIR: '/srv/posfleet' });
    expect(problems).toEqual([expect.stringMatching(/^CLUSTER: needs DATABASE_URL .*PGlite/)]);
  });

  it('refuses CLUSTER without REDIS_URL', () => {
    const problems = problemsOf({ CLUSTER: 'yes', DATABASE_URL: 'postgres://x@h/db', SHARED_DIR: '/srv/posfleet' });
    expect(problems).toEqual([expect.stringMatching(/^CLUSTER: needs REDIS_URL/)]);
  });

  it('refuses CLUSTER without SHARED_DIR, where every instance finds the firmware images', () => {
    const problems = problemsOf({ CLUSTER: 'true', DATABASE_URL: 'postgres://x@h/db', REDIS_URL: 'redis://h:6379' });
    expect(problems).toEqual([expect.stringMatching(/^CLUSTER: needs SHARED_DIR/)]);
  });

  it('accepts CLUSTER with all three, and an INSTANCE_ID of safe characters only', () => {
    const cfg = loadConfig({ CLUSTER: '1', DATABASE_URL: 'postgres://x@h/db', REDIS_URL: 'redis://h:6379', SHARED_DIR: '/srv/posfleet', INSTANCE_ID: 'eu-1.a_b' }, NO_FILE);
    expect(cfg.CLUSTER).toBe(true);
    expect(instanceIdOf(cfg)).toBe('eu-1.a_b');
    expect(problemsOf({ INSTANCE_ID: 'has space' })).toEqual([expect.stringMatching(/^INSTANCE_ID: "has space" must be/)]);
  });

  it('generates distinct instance ids when none is set', () => {
    const a = instanceIdOf({});
    const b = instanceIdOf({});
    expect(a).toMatch(/^[A-Za-z0-9._-]+-[0-9a-f]{6}$/);
    expect(a).not.toBe(b);
  });

  it('leaves CLUSTER off by default', () => {
    expect(loadConfig({}, NO_FILE).CLUSTER).toBe(false);
  });
});
