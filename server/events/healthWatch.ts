// Which devices' health samples someone on the live stream is watching. The ingest path asks
// `wants(deviceId)` for every sample (one Map lookup, nothing built unless the answer is yes), so a
// fleet sending thousands of samples a second pays nothing for the feed nobody opened.
export interface HealthWatch {
  /** Counts one more watcher of each device; the returned function undoes it (once). */
  watch(deviceIds: Iterable<string>): () => void;
  wants(deviceId: string): boolean;
  /** Devices watched right now (for metrics and tests). */
  size(): number;
}

export function createHealthWatch(): HealthWatch {
  const watchers = new Map<string, number>();
  return {
    watch(deviceIds) {
      const ids = [...new Set(deviceIds)];
      for (const id of ids) watchers.set(id, (watchers.get(id) ?? 0) + 1);
      let done = false;
      return () => {
        if (done) return;
        done = true;
        for (const id of ids) {
          const n = (watchers.get(id) ?? 1) - 1;
          if (n > 0) watchers.set(id, n);
          else watchers.delete(id);
        }
      };
    },
    wants: (deviceId) => watchers.size > 0 && watchers.has(deviceId),
    size: () => watchers.size,
  };
}
