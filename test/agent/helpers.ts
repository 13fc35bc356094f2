// Shared test fixtures for the agent tests.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { createAgent, type Agent, type AgentDeps } from '../../agent/agent.ts';
import { createDispatcher, type HandlerRegistry } from '../../agent/dispatcher.ts';
import { KeyInstallError } from '../../agent/keys/installError.ts';
import type { HandlerEnv } from '../../agent/handlers/env.ts';
import type { Enrollment } from '../../agent/schemas.ts';
import { createSeenLog } from '../../agent/seen.ts';
import { createSimulatedHardware, type SimulatedHardware } from '../../agent/simulatedHardware.ts';
import { openStateStore, type StateStore } from '../../agent/stateStore.ts';
import { ackMessage, type AckMessage } from '../../schemas/wire.ts';

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

/**
 * What a handler may use, on simulated hardware that never sleeps, connected, with reboot and
 * config changes doing nothing; `over` replaces what a test watches or holds.
 */
export function testHandlerEnv(store: StateStore, over: Partial<Omit<HandlerEnv, 'hardware'>> = {}): HandlerEnv & { hardware: SimulatedHardware } {
  return {
    hardware: createSimulatedHardware({ seed: 3, sleep: async () => undefined }),
    store,
    log: silentLog,
    now: Date.now,
    isConnected: () => true,
    reboot: async () => undefined,
    applyConfig: () => undefined,
    logBundle: () => '',
    ...over,
  };
}

/** The real dispatcher over `handlers`; every ack it sends is checked against the wire schema and kept. */
export function ackRecordingDispatcher(handlers: HandlerRegistry) {
  const acks: AckMessage[] = [];
  const dispatcher = createDispatcher({ handlers, seen: createSeenLog({}), sendAck: (a) => acks.push(ackMessage.parse(a)), now: Date.now, log: silentLog });
  /** Hands the dispatcher a command as it arrives from the broker. */
  const send = (id: string, type: string, payload: Record<string, unknown>) => dispatcher.handle(JSON.stringify({ id, type, issuedAt: Date.now(), payload }));
  return { dispatcher, acks, send };
}

/** Starts the real agent, with quick reconnects and silent logs unless `deps` says otherwise, and waits until it is connected. */
export async function startConnectedAgent(deps: AgentDeps, connectTimeoutMs = 5000): Promise<Agent> {
  const agent = createAgent({ backoff: { initialMs: 50, maxMs: 200, factor: 2 }, log: silentLog, ...deps });
  await agent.start();
  await agent.waitConnected(connectTimeoutMs);
  return agent;
}

/** `state:code` of a refused keys.install, or `accepted`. */
export function installRefusal(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof KeyInstallError) return `${err.state}:${err.code}`;
    throw err;
  }
  return 'accepted';
}
