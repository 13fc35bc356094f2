// Unresolved faults in memory, by device and code: the ingest path asks "is this open?" without
// touching the database. Loaded at start, kept in step with every change.
import type { FaultRow } from '../../schemas/tables/faults.ts';

export interface OpenFaults {
  codes(deviceId: string): ReadonlyMap<string, FaultRow> | undefined;
  get(id: string): FaultRow | undefined;
  find(deviceId: string, code: string): FaultRow | undefined;
  add(row: FaultRow): void;
  remove(row: FaultRow): void;
  all(): IterableIterator<FaultRow>;
  size(): number;
}

export function createOpenFaults(): OpenFaults {
  const byDevice = new Map<string, Map<string, FaultRow>>();
  const byId = new Map<string, FaultRow>();
  return {
    codes: (deviceId) => byDevice.get(deviceId),
    get: (id) => byId.get(id),
    find: (deviceId, code) => byDevice.get(deviceId)?.get(code),
    add(row) {
      let codes = byDevice.get(row.deviceId);
      if (!codes) byDevice.set(row.deviceId, (codes = new Map()));
      const prev = codes.get(row.code);
      if (prev) byId.delete(prev.id);
      codes.set(row.code, row);
      byId.set(row.id, row);
    },
    remove(row) {
      byId.delete(row.id);
      const codes = byDevice.get(row.deviceId);
      if (codes?.get(row.code) === row) {
        codes.delete(row.code);
        if (!codes.size) byDevice.delete(row.deviceId);
      }
    },
    all: () => byId.values(),
    size: () => byId.size,
  };
}
