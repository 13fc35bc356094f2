// Shared test fixtures for the agent tests.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import type { Enrollment } from '../../agent/schemas.ts';
import { openStateStore, type StateStore } from '../../agent/stateStore.ts';

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

/** A state store enrolled as dev_1, trusting `publisherKeyBase64` for firmware, on slot A 1.0.0. */
export function otaAgentStore(publisherKeyBase64: string): StateStore {
  const store = openStateStore(tempDir());
  store.saveEnrollment({ ...fakeEnrollment('dev_1', 'mqtt://x', 'p'), trust: { firmwarePublishers: [publisherKeyBase64], bindingKey: '' }, serial: 'S1', server: 'http://x', enrolledAt: 1 });
  store.loadFirmware('1.0.0');
  return store;
}
