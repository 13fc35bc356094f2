// The slice of the posfleet HTTP API the benchmark drives (SPEC §2, §8).
import { z } from 'zod';
import { metricByLabel, metricSum, parsePrometheus, type Sample } from './promText.ts';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
    what: string,
  ) {
    super(`${what}: HTTP ${status} ${body.slice(0, 300)}`);
    this.name = 'ApiError';
  }
}

export interface Enrolled {
  deviceId: string;
  mqtt: { url: string; username: string; password: string };
}

export interface BatchStatus {
  id: string;
  total: number;
  counts: Record<string, number>;
}

export interface FleetSummary {
  devices: number;
  online: number;
  offline: number;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function field<T>(obj: unknown, key: string, check: (v: unknown) => v is T, what: string): T {
  const v = isRecord(obj) ? obj[key] : undefined;
  if (!check(v)) throw new Error(`${what}: unexpected answer, field "${key}" is ${JSON.stringify(v)?.slice(0, 100)}`);
  return v;
}
const isString = (v: unknown): v is string => typeof v === 'string';
const isArray = (v: unknown): v is unknown[] => Array.isArray(v);
const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

export class Api {
  constructor(
    readonly baseUrl: string,
    private readonly adminToken: string,
  ) {}

  private async call(
    method: string,
    path: string,
    what: string,
    body?: string | Uint8Array<ArrayBuffer>,
    contentType = 'application/json',
    auth = true,
    timeoutMs = 60_000,
  ): Promise<unknown> {
    const headers: Record<string, string> = {};
    if (body !== undefined) headers['content-type'] = contentType;
    if (auth) headers.authorization = `Bearer ${this.adminToken}`;
    const res = await fetch(`${this.baseUrl}${path}`, { method, headers, body, signal: AbortSignal.timeout(timeoutMs) });
    const text = await res.text();
    if (!res.ok) throw new ApiError(res.status, text, what);
    return text ? (JSON.parse(text) as unknown) : null;
  }

  /** An admin request with a JSON body whose answer, if the scenario reads it, is parsed by `answer`.
   *  Waits longer than the fleet calls: a campaign of 10,000 terminals is written in one request. */
  async admin(method: string, path: string, body?: unknown): Promise<void>;
  async admin<S extends z.ZodType>(method: string, path: string, body: unknown, answer: S): Promise<z.output<S>>;
  async admin<S extends z.ZodType>(method: string, path: string, body?: unknown, answer?: S): Promise<z.output<S> | void> {
    const what = `${method} ${path}`;
    const json = body === undefined ? undefined : JSON.stringify(body);
    const got = await this.call(method, path, what, json, 'application/json', true, 120_000);
    if (!answer) return;
    const parsed = answer.safeParse(got);
    if (!parsed.success) throw new Error(`${what}: unexpected answer: ${parsed.error.message.slice(0, 300)}`);
    return parsed.data;
  }

  /** PUT of raw bytes as an octet stream (a firmware image). */
  async upload(path: string, bytes: Buffer): Promise<void> {
    await this.call('PUT', path, `PUT ${path}`, new Uint8Array(bytes), 'application/octet-stream', true, 120_000);
  }

  async importCsv(csv: string): Promise<{ created: number; skipped: number; errors: unknown }> {
    const r = await this.call('POST', '/v1/devices/import', 'device import', csv, 'text/csv');
    return {
      created: field(r, 'created', isNumber, 'device import'),
      skipped: isRecord(r) && isNumber(r.skipped) ? r.skipped : 0,
      errors: isRecord(r) ? r.errors : undefined,
    };
  }

  async enroll(body: { serial: string; model: string; fwVersion: string; kekPublicKey: string; enrollToken: string }): Promise<Enrolled> {
    const r = await this.call('POST', '/v1/enroll', 'enroll', JSON.stringify(body), 'application/json', false);
    const mqtt = field(r, 'mqtt', isRecord, 'enroll');
    return {
      deviceId: field(r, 'deviceId', isString, 'enroll'),
      mqtt: {
        url: field(mqtt, 'url', isString, 'enroll'),
        username: field(mqtt, 'username', isString, 'enroll'),
        password: field(mqtt, 'password', isString, 'enroll'),
      },
    };
  }

  async sendCommand(body: { target: { deviceIds: string[] } | { filter: Record<string, unknown> }; type: string; payload: Record<string, unknown> }): Promise<{ batchId: string; total: number }> {
    const r = await this.call('POST', '/v1/commands', 'send command', JSON.stringify(body));
    return { batchId: field(r, 'batchId', isString, 'send command'), total: field(r, 'total', isNumber, 'send command') };
  }

  async batch(batchId: string): Promise<BatchStatus> {
    const r = await this.call('GET', `/v1/command-batches/${encodeURIComponent(batchId)}`, 'command batch');
    const counts: Record<string, number> = {};
    for (const [k, v] of Object.entries(field(r, 'counts', isRecord, 'command batch'))) if (isNumber(v)) counts[k] = v;
    return { id: batchId, total: field(r, 'total', isNumber, 'command batch'), counts };
  }

  async summary(): Promise<FleetSummary> {
    const r = await this.call('GET', '/v1/fleet/summary', 'fleet summary');
    return {
      devices: field(r, 'devices', isNumber, 'fleet summary'),
      online: field(r, 'online', isNumber, 'fleet summary'),
      offline: field(r, 'offline', isNumber, 'fleet summary'),
    };
  }

  /** The rule set in force, as PUT /v1/fault-rules takes it back. */
  async faultRules(): Promise<unknown[]> {
    const r = await this.call('GET', '/v1/fault-rules', 'fault rules');
    return field(r, 'rules', isArray, 'fault rules');
  }

  async putFaultRules(rules: readonly unknown[]): Promise<void> {
    await this.call('PUT', '/v1/fault-rules', 'replace fault rules', JSON.stringify({ rules }));
  }

  async metrics(): Promise<ServerMetrics> {
    const res = await fetch(`${this.baseUrl}/metrics`, { signal: AbortSignal.timeout(30_000) });
    if (!res.ok) throw new ApiError(res.status, await res.text(), 'metrics');
    return new ServerMetrics(parsePrometheus(await res.text()));
  }
}

export class ServerMetrics {
  constructor(readonly samples: Sample[]) {}
  get connected(): number | undefined {
    return metricSum(this.samples, 'posfleet_connected_devices');
  }
  get healthIn(): number | undefined {
    return metricSum(this.samples, 'posfleet_messages_in_total', { kind: 'health' });
  }
  get dropped(): Record<string, number> {
    return metricByLabel(this.samples, 'posfleet_messages_dropped_total', 'reason');
  }
  get lagP99Ms(): number | undefined {
    const s = metricSum(this.samples, 'posfleet_event_loop_lag_p99_seconds');
    return s === undefined ? undefined : s * 1000;
  }
  get rssBytes(): number | undefined {
    return metricSum(this.samples, 'posfleet_process_resident_memory_bytes');
  }
}
