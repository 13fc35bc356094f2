// Shared test fixtures for the agent tests.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import type { Enrollment } from '../../agent/schemas.ts';

export const silentLog = pino({ level: 'silent' });

export const tempDir = (name = 'posfleet-agent-') => mkdtempSync(join(tmpdir(), name));

export function fakeEnrollment(deviceId: string, url: string, password = 'test-secret'): Enrollment {
  return {
    deviceId,
    mqtt: { url, username: deviceId, password },
    trust: { firmwarePublishers: [], bindingKey: '' },
    serial: `SER-${deviceId}`,
    model: 'PAX-A920',
    server: 'http://127.0.0.1:1',
    enrolledAt: 0,
  };
}

/** Polls until `check` returns a value (not undefined), or fails after `timeoutMs`. */
export async function waitFor<T>(check: () => T | undefined, timeoutMs = 5000, what = 'condition'): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = check();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
