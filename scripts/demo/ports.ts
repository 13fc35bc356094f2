// Which ports a demo run listens on. The first run takes 8080/1883, or free ports when those are
// taken (Mosquitto often holds 1883); later runs on the same DATA_DIR take the ports remembered
// in DATA_DIR/demo.json, so enrolled terminals find their broker where they left it.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { z } from 'zod';

export const DEFAULT_PORTS = { HTTP_PORT: 8080, MQTT_PORT: 1883 } as const;
export type PortName = keyof typeof DEFAULT_PORTS;

/** What a demo run leaves for the next run and for `npm run demo:rollout`. */
export const demoState = z.object({
  ports: z.object({ HTTP_PORT: z.number().int().min(1).max(65535), MQTT_PORT: z.number().int().min(1).max(65535) }).partial(),
  httpUrl: z.string(),
  mqttUrl: z.string(),
});
export type DemoState = z.infer<typeof demoState>;

export type PortChoice = { port: number; why: 'set' | 'remembered' | 'default' | 'remembered_taken' | 'default_taken' };

/** The port a run tries first: the one remembered, else the default. */
export const candidatePort = (name: PortName, remembered: number | undefined): number => remembered ?? DEFAULT_PORTS[name];

/** Pure: the port to ask for (0 = any free one) given the environment, memory and whether the candidate is free. */
export function choosePort(name: PortName, env: string | undefined, remembered: number | undefined, candidateFree: boolean): PortChoice {
  if (env !== undefined && env !== '') return { port: Number(env), why: 'set' };
  if (remembered !== undefined) return candidateFree ? { port: remembered, why: 'remembered' } : { port: 0, why: 'remembered_taken' };
  return candidateFree ? { port: DEFAULT_PORTS[name], why: 'default' } : { port: 0, why: 'default_taken' };
}

export function portFree(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, host, () => probe.close(() => resolve(true)));
  });
}

const stateFile = (dataDir: string) => join(dataDir, 'demo.json');

export function loadDemoState(dataDir: string): DemoState | null {
  const file = stateFile(dataDir);
  if (!existsSync(file)) return null;
  // A damaged file only costs the memory of the ports: the run starts as a first one would.
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return null;
  }
  const parsed = demoState.safeParse(json);
  return parsed.success ? parsed.data : null;
}

export function saveDemoState(dataDir: string, state: DemoState): void {
  writeFileSync(stateFile(dataDir), `${JSON.stringify(state, null, 2)}\n`);
}

export interface PortsChosen {
  /** What to tell the user. */
  notes: string[];
  /** The ports this run picked itself (not set in the environment), which it may move again. */
  picked: Partial<Record<PortName, number>>;
}

/** Sets HTTP_PORT/MQTT_PORT for this run. */
export async function choosePorts(dataDir: string, host: string): Promise<PortsChosen> {
  const remembered = loadDemoState(dataDir)?.ports ?? {};
  const notes: string[] = [];
  const picked: Partial<Record<PortName, number>> = {};
  for (const name of ['HTTP_PORT', 'MQTT_PORT'] as const) {
    const candidate = candidatePort(name, remembered[name]);
    const choice = choosePort(name, process.env[name], remembered[name], await portFree(candidate, host));
    if (choice.why === 'set') continue;
    if (choice.why === 'remembered_taken')
      notes.push(`port ${candidate} (${name} of the last demo run) is taken; this run uses a free one and its terminals follow it`);
    if (choice.why === 'default_taken') notes.push(`port ${candidate} is taken; the demo uses a free port for ${name}`);
    process.env[name] = String(choice.port);
    if (choice.port !== 0) picked[name] = choice.port;
  }
  return { notes, picked };
}

/**
 * Pure: which of the ports the run picked itself is `taken`, so that it asks for a free one
 * instead; undefined when it is none of them (a port the user set stays an error).
 */
export function portToMove(picked: Partial<Record<PortName, number>>, taken: number): PortName | undefined {
  return (['HTTP_PORT', 'MQTT_PORT'] as const).find((name) => picked[name] === taken);
}
