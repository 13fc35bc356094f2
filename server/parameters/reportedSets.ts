// The parameter sets terminals report on `state`: kept in memory for the drift watch (the ingest
// hook must stay synchronous and cheap), written behind to device_parameters every flush, and
// loaded from there at start.
import type { ReportedParameters } from '../../schemas/parameters.ts';
import type { Logger } from '../log.ts';
import type { ParameterStore } from './parameterStore.ts';
import type { Reported } from './parameterViews.ts';

export function createReportedSets(deps: { store: ParameterStore; log: Logger }) {
  const latest = new Map<string, Reported>();
  let pending = new Map<string, { at: Date; set: ReportedParameters }>();
  let flushing: Promise<void> = Promise.resolve();

  async function writePending(): Promise<void> {
    if (!pending.size) return;
    const batch = pending;
    pending = new Map();
    try {
      await deps.store.saveReported(batch);
    } catch (err) {
      // Put back what is not newer in memory: the next flush tries again.
      for (const [id, r] of batch) if (!pending.has(id)) pending.set(id, r);
      deps.log.warn({ err, devices: batch.size }, 'reported parameters not written; retrying');
    }
  }

  return {
    /** On the ingest path: a set the terminal reports; unchanged sets are not written again. */
    report(deviceId: string, set: ReportedParameters, at = new Date()): void {
      const before = latest.get(deviceId);
      latest.set(deviceId, { ...set, reportedAt: before?.digest === set.digest && before.templateId === set.templateId ? before.reportedAt : at });
      if (before?.digest === set.digest && before.templateId === set.templateId && before.version === set.version) return;
      pending.set(deviceId, { at, set });
    },
    get: (deviceId: string): Reported | undefined => latest.get(deviceId),
    all: (): ReadonlyMap<string, Reported> => latest,
    forget(deviceId: string): void {
      latest.delete(deviceId);
      pending.delete(deviceId);
    },
    async load(): Promise<number> {
      let after: string | undefined;
      for (;;) {
        const rows = await deps.store.reportedPage(1000, after);
        for (const r of rows) latest.set(r.deviceId, { templateId: r.templateId, version: r.version, digest: r.digest, values: r.values, reportedAt: r.reportedAt });
        if (rows.length < 1000) return latest.size;
        after = rows[rows.length - 1]?.deviceId;
      }
    },
    /** Writes what is pending; concurrent calls wait for one another. */
    flush(): Promise<void> {
      flushing = flushing.then(writePending);
      return flushing;
    },
  };
}
export type ReportedSets = ReturnType<typeof createReportedSets>;
