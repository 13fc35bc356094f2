// IPC contract between the orchestrator and its load-generator children.

export interface DeviceSpec {
  id: string;
  /** Our server authenticates devices; raw aedes takes anyone. */
  username?: string;
  password?: string;
}

export interface TargetSpec {
  host: string;
  port: number;
  /** Source address for this generator's sockets (127.0.0.x). */
  localAddress: string;
  /** Other brokers of a cluster, tried in turn once a connect to the current one fails: what a
   *  terminal given several broker URLs does when its instance dies. */
  alternates?: { host: string; port: number }[];
}

export type Request =
  | { t: 'setup'; target: TargetSpec; devices: DeviceSpec[] }
  | { t: 'connect'; window: number; timeoutMs: number }
  | { t: 'ingest'; count: number; durationMs: number; drainMs: number }
  | { t: 'status' }
  | { t: 'close' };

export interface ConnectReport {
  connected: number;
  failed: number;
  /** Epoch ms of the last CONNACK (clocks are shared: same machine). */
  lastConnackAt: number;
  /** Epoch ms when the last device had its SUBACK and state PUBACK. */
  readyAt: number;
  errors: string[];
}

export interface IngestReport {
  sent: number;
  acked: number;
  failed: number;
  /** publish → PUBACK, one per acked message. */
  latenciesMs: number[];
  /** Generator's own event-loop delay during the step: high values mean the generator, not the
   *  broker, was the bottleneck. */
  genLagMaxMs: number;
  sendMs: number;
}

export interface StatusReport {
  devices: number;
  connected: number;
  reconnects: number;
  cmdsReceived: number;
  acksConfirmed: number;
  errors: string[];
}

export type ReplyFor<R extends Request> = R extends { t: 'connect' }
  ? ConnectReport
  : R extends { t: 'ingest' }
    ? IngestReport
    : R extends { t: 'status' }
      ? StatusReport
      : null;

export interface Envelope {
  id: number;
  req: Request;
}

export type Reply = { id: number; ok: true; data: unknown } | { id: number; ok: false; error: string };

export function isEnvelope(v: unknown): v is Envelope {
  return typeof v === 'object' && v !== null && 'id' in v && 'req' in v && typeof v.id === 'number';
}

export function isReply(v: unknown): v is Reply {
  return typeof v === 'object' && v !== null && 'id' in v && 'ok' in v && typeof v.id === 'number';
}
