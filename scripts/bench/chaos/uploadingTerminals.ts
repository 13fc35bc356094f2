// A few terminals in the case's own process that do what the generators' terminals do not: PUT a
// log bundle to the signed link of a `logs.upload` command, and publish health on a timer. Each
// upload's answer is kept (answers.ts), and the command is acked succeeded or failed by it.
import { openBenchTerminal, type BenchTerminal } from '../benchTerminal.ts';
import type { DeviceSpec } from '../protocol.ts';
import { topicFor } from '../../../schemas/wire.ts';
import { ask, type Answer } from './answers.ts';

export interface UploadingTerminals {
  /** Every upload's answer, in order, with the command it answered. */
  readonly uploads: { cmdId: string; answer: Answer }[];
  readonly healthAcked: () => number;
  readonly errors: string[];
  close(): Promise<void>;
}

interface UploadPayload {
  url?: string;
}

export async function openUploadingTerminals(
  devices: readonly DeviceSpec[],
  mqttPort: number,
  opts: { bundleBytes: number; healthEveryMs: number },
): Promise<UploadingTerminals> {
  const uploads: UploadingTerminals['uploads'] = [];
  const errors: string[] = [];
  let healthAcked = 0;
  const bundle = new Blob([new Uint8Array(opts.bundleBytes).fill(0x61)]);
  const target = { host: '127.0.0.1', port: mqttPort, localAddress: '127.0.0.1' };
  const terminals: BenchTerminal[] = devices.map((d) => {
    const t: BenchTerminal = openBenchTerminal<UploadPayload>({ id: d.id, password: d.password ?? '' }, target, {
      firmware: () => ({ fwVersion: '1.0.0', slot: 'A' }),
      note: (m) => void (errors.length < 20 && errors.push(m)),
      onCommand(cmd) {
        if (cmd.type !== 'logs.upload' || !cmd.payload.url) return t.ack({ cmdId: cmd.id, state: 'succeeded' });
        const url = new URL(cmd.payload.url);
        void ask(url.origin, null, 'PUT', `${url.pathname}${url.search}`, bundle, 30_000).then((answer) => {
          uploads.push({ cmdId: cmd.id, answer });
          const ok = answer.status === 201;
          t.ack(
            ok
              ? { cmdId: cmd.id, state: 'succeeded' }
              : {
                  cmdId: cmd.id,
                  state: 'failed',
                  error: { code: answer.code ?? 'upload_failed', message: `upload answered ${answer.status}` },
                },
          );
        });
      },
    });
    return t;
  });
  await Promise.all(terminals.map((t) => t.subscribed));
  let seq = 0;
  const timer = setInterval(() => {
    const ts = Date.now();
    for (const t of terminals) {
      const id = t.client.options.clientId ?? '';
      const sample = {
        ts,
        seq: seq++,
        battery: { level: 80, charging: false },
        temperatureC: 36,
        printer: { status: 'ok' },
        signal: { type: 'wifi', rssi: -60 },
        uptimeS: 60,
      };
      t.client.publish(topicFor(id, 'health'), JSON.stringify(sample), { qos: 1 }, (err) => void (err || healthAcked++));
    }
  }, opts.healthEveryMs);
  return {
    uploads,
    healthAcked: () => healthAcked,
    errors,
    async close() {
      clearInterval(timer);
      await Promise.all(terminals.map((t) => new Promise<void>((resolve) => t.client.end(true, {}, () => resolve()))));
    },
  };
}
