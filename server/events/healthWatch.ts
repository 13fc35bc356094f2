// Which devices' health samples someone on the live stream is watching. The ingest path asks
// `wants(deviceId)` for every sample (one Map lookup, nothing built unless the answer is yes), so a
// fleet sending thousands of samples a second pays nothing for the feed nobody opened. In a
// cluster the watcher may be on another instance than the device: peers' watched sets are kept
// here too, each for a while after its instance last announced it (server/cluster/eventRelay.ts).
export interface HealthWatch {
  /** Counts one more watcher of each device; the returned function undoes it (once). */
  watch(deviceIds: Iterable<string>): () => void;
  wants(deviceId: string): boolean;
  /** Devices watched right now (for metrics and tests). */
  size(): number;
  /** Devices watched on this instance. */
  localIds(): string[];
  /** Called when this instance's watched set changes. */
  onLocalChange(fn: () => void): void;
  /** What a peer instance watches, valid until `untilMs`. */
  setRemote(instanceId: string, deviceIds: readonly string[], untilMs: number): void;
}

export function createHealthWatch(now: () => number = Date.now): HealthWatch {
  const watchers = new Map<string, number>();
  const remote = new Map<string, { ids: Set<string>; untilMs: number }>();
  const changed: (() => void)[] = [];
  const announce = () => {
    for (const fn of changed) fn();
  };
  const remoteWants = (deviceId: string) => {
    for (const [instance, r] of remote) {
      if (r.untilMs < now()) remote.delete(instance);
      else if (r.ids.has(deviceId)) return true;
    }
    return false;
  };
  return {
    watch(deviceIds) {
      const ids = [...new Set(deviceIds)];
      for (const id of ids) watchers.set(id, (watchers.get(id) ?? 0) + 1);
      if (ids.length) announce();
      let done = false;
      return () => {
        if (done) return;
        done = true;
        for (const id of ids) {
          const n = (watchers.get(id) ?? 1) - 1;
          if (n > 0) watchers.set(id, n);
          else watchers.delete(id);
        }
        if (ids.length) announce();
      };
    },
    wants: (deviceId) => (watchers.size > 0 && watchers.has(deviceId)) || (remote.size > 0 && remoteWants(deviceId)),
    size: () => watchers.size,
    localIds: () => [...watchers.keys()],
    onLocalChange(fn) {
      changed.push(fn);
    },
    setRemote(instanceId, deviceIds, untilMs) {
      if (deviceIds.length) remote.set(instanceId, { ids: new Set(deviceIds), untilMs });
      else remote.delete(instanceId);
    },
  };
}
