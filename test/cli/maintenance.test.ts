// Maintenance windows from the CLI against a real server (PGlite, as every CLI suite): one set for
// the root organisation, listed, refused before sending when a day is out of range (exit 2),
// removed, and an unknown id's removal is the API's not_found (exit 3).
import { expect, it } from 'vitest';
import { onDefaultServer, TEST_ADMIN_TOKEN } from '../helpers/testServer.ts';
import { runCli, scratchHome } from './runCli.ts';

onDefaultServer('operator CLI: maintenance windows', (server) => {
  it('creates, lists and deletes a window; a bad day is a usage error and an unknown id not_found', async () => {
    const env = { HOME: scratchHome(), POSFLEET_URL: server().url, POSFLEET_TOKEN: TEST_ADMIN_TOKEN };
    const created = await runCli(
      [
        'maintenance',
        'create',
        '--scope',
        'org',
        '--target',
        'org_root',
        '--days',
        '1,2,3',
        '--start',
        '22:00',
        '--end',
        '04:00',
        '--name',
        'nights',
        '--json',
      ],
      { env },
    );
    expect(created.code, created.stderr).toBe(0);
    const window: { id: string; days: number[]; start: string; end: string } = JSON.parse(created.stdout);
    expect(window).toMatchObject({ days: [1, 2, 3], start: '22:00', end: '04:00' });
    const listed = await runCli(['maintenance', 'list'], { env });
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toMatch(new RegExp(`${window.id}\\s+org org_root\\s+1,2,3\\s+22:00-04:00\\s+nights`));
    const badDay = await runCli(
      ['maintenance', 'create', '--scope', 'org', '--target', 'org_root', '--days', '1,8', '--start', '22:00', '--end', '04:00'],
      { env },
    );
    expect(badDay.code).toBe(2);
    expect(badDay.stderr).toContain('days.1');
    expect((await runCli(['maintenance', 'delete', window.id], { env })).code).toBe(0);
    const gone = await runCli(['maintenance', 'delete', window.id], { env });
    expect(gone.code).toBe(3);
    expect(gone.stderr).toMatch(/^error: not_found \(404\): /);
  });
});
