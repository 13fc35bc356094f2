// What the measurement phases need from the broker under test, so one procedure measures both
// our server and raw aedes the same way.
import type { Api } from './api.ts';
import type { RawBrokerProcess } from './rawBrokerProc.ts';
import type { ServerProcess } from './serverProc.ts';

export interface BrokerUnderTest {
  label: string;
  mqttPort: number;
  /** Root of the broker's process tree, for RSS and CPU time. */
  pid(): number;
  /** Health messages the broker says it accepted so far; null when it keeps no such count. */
  healthCount(): Promise<number | null>;
  dropped(): Promise<Record<string, number>>;
  lagP99Ms(): Promise<number | null>;
}

export function posfleetBroker(server: () => ServerProcess, api: Api, mqttPort: number): BrokerUnderTest {
  return {
    label: 'posfleet',
    mqttPort,
    pid: () => server().pid,
    // No sample yet means nothing counted yet; a missing family after traffic is caught by the
    // step check, because the count then stays at 0.
    healthCount: async () => (await api.metrics()).healthIn ?? 0,
    dropped: async () => (await api.metrics()).dropped,
    lagP99Ms: async () => (await api.metrics()).lagP99Ms ?? null,
  };
}

export function rawAedesBroker(raw: RawBrokerProcess): BrokerUnderTest {
  return {
    label: 'raw aedes',
    mqttPort: raw.port,
    pid: () => raw.pid,
    healthCount: async () => null,
    dropped: async () => ({}),
    lagP99Ms: async () => (await raw.stats()).lagP99Ms,
  };
}
