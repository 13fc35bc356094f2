// Everything the device page reads, each part loaded on its own (a refusal of one shows in its own
// card), with throttled reloads for the live events that say a part changed.
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { ApiError } from '../../../apiClient.ts';
import { api, has } from '../../session.ts';
import {
  bindingState,
  bundlePage,
  commandPage,
  deviceDetail,
  diagnosticsPage,
  faultPage,
  isFinalCommandState,
  timelinePage,
  type BindingState,
  type Command,
  type DeviceDetail,
  type DiagnosticsRun,
  type Fault,
  type LogBundle,
  type TimelineEntry,
} from './deviceData.ts';
import { throttle } from '../../throttle.ts';

const TIMELINE_PAGE = 25;
/** Commands listed; diagnostics are fetched as many, so every diag.run row finds its result. */
const COMMANDS_PAGE = 10;
const LOGS_PAGE = 5;

/** A card's content: loading (neither), refused, or not in this build. */
export interface Part<T> {
  value?: T;
  error?: unknown;
  unavailable?: boolean;
}

export function useDeviceData(id: string, onTitle: (title: string) => void) {
  const enc = encodeURIComponent(id);
  const stopped = useRef(false);
  const [notFound, setNotFound] = useState(false);
  const [device, setDevice] = useState<Part<DeviceDetail>>({});
  const [binding, setBinding] = useState<Part<BindingState>>({});
  const [faults, setFaults] = useState<Part<Fault[]>>({});
  const [diag, setDiag] = useState<Part<DiagnosticsRun[]>>({});
  const [logs, setLogs] = useState<Part<LogBundle[]>>({});
  const [commands, setCommands] = useState<Part<Command[]>>({});
  const [timeline, setTimeline] = useState<Part<TimelineEntry[]>>({});
  const [timelineCursor, setTimelineCursor] = useState<string | null>(null);
  const cursor = useRef<string | null>(null);
  const diagReread = useRef(new Set<string>());

  const load = useMemo(() => {
    const guard =
      <T>(set: (p: Part<T>) => void, fn: () => Promise<T>) =>
      async () => {
        try {
          const value = await fn();
          if (!stopped.current) set({ value });
        } catch (error) {
          if (!stopped.current) set({ error });
        }
      };
    const device = async () => {
      try {
        const d = await api.call(deviceDetail, 'GET', `/v1/devices/${enc}`);
        if (stopped.current) return;
        onTitle(`Terminal ${d.serial}`);
        setDevice({ value: d });
      } catch (error) {
        if (error instanceof ApiError && error.status === 404) {
          onTitle('Device not found');
          stopped.current = true;
          setNotFound(true);
          return;
        }
        if (!stopped.current) setDevice({ error });
      }
    };
    const binding = () =>
      has('GET /v1/devices/{id}/binding')
        ? guard(setBinding, () => api.call(bindingState, 'GET', `/v1/devices/${enc}/binding`))()
        : Promise.resolve(setBinding({ unavailable: true }));
    const listOf =
      <T>(route: string, set: (p: Part<T[]>) => void, fetchPage: () => Promise<{ items: T[] }>) =>
      () =>
        has(route) ? guard(set, () => fetchPage().then((p) => p.items))() : Promise.resolve(set({ unavailable: true }));
    const faults = listOf('GET /v1/faults', setFaults, () =>
      api.call(faultPage, 'GET', '/v1/faults', { query: { deviceId: id, limit: 50 } }),
    );
    const diag = listOf('GET /v1/devices/{id}/diagnostics', setDiag, () =>
      api.call(diagnosticsPage, 'GET', `/v1/devices/${enc}/diagnostics`, { query: { limit: COMMANDS_PAGE } }),
    );
    const logs = listOf('GET /v1/devices/{id}/logs', setLogs, () =>
      api.call(bundlePage, 'GET', `/v1/devices/${enc}/logs`, { query: { limit: LOGS_PAGE } }),
    );
    const commands = guard(setCommands, () =>
      api.call(commandPage, 'GET', `/v1/devices/${enc}/commands`, { query: { limit: COMMANDS_PAGE } }).then((p) => p.items),
    );
    const timeline = async (more = false) => {
      try {
        const p = await api.call(timelinePage, 'GET', `/v1/devices/${enc}/timeline`, {
          query: { limit: TIMELINE_PAGE, cursor: more ? cursor.current : undefined },
        });
        if (stopped.current) return;
        setTimeline((t) => ({ value: more ? [...(t.value ?? []), ...p.items] : p.items }));
        cursor.current = p.nextCursor;
        setTimelineCursor(p.nextCursor);
      } catch (error) {
        if (!stopped.current) setTimeline((t) => ({ value: t.value, error }));
      }
    };
    return { device, binding, faults, diag, logs, commands, timeline };
  }, [id]);

  const refresh = useMemo(
    () => ({
      device: throttle(() => void load.device(), 1000),
      commands: throttle(() => void load.commands(), 700),
      timeline: throttle(() => void load.timeline(false), 1500),
      faults: throttle(() => void load.faults(), 800),
      diag: throttle(() => void load.diag(), 800),
      logs: throttle(() => void load.logs(), 800),
      binding: throttle(() => void load.binding(), 800),
    }),
    [load],
  );

  useEffect(() => {
    stopped.current = false;
    void load.device().then(() => load.binding());
    void load.faults();
    void load.diag();
    void load.logs();
    void load.commands();
    void load.timeline();
    const poll = setInterval(() => !document.hidden && refresh.device(), 10_000);
    return () => {
      stopped.current = true;
      clearInterval(poll);
    };
  }, [load]);

  // A diag.run that finished after its diagnostics entry was read: read it again, once per command
  // (a run that failed or expired has no verdict to wait for).
  useEffect(() => {
    const byCmd = new Map((diag.value ?? []).map((d) => [d.cmdId, d]));
    for (const c of commands.value ?? []) {
      const d = byCmd.get(c.id);
      if (c.type !== 'diag.run' || (d && d.passed !== null)) continue;
      if (isFinalCommandState(c.state) && d?.state !== c.state && !diagReread.current.has(c.id)) {
        diagReread.current.add(c.id);
        refresh.diag();
      }
    }
  }, [commands.value, diag.value]);

  return { notFound, device, setDevice, binding, faults, diag, logs, commands, timeline, timelineCursor, load, refresh };
}
