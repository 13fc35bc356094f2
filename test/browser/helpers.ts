// Browser-test helpers: Debian's chromium driven by playwright-core, screenshots under
// test-artifacts/, and a scripted terminal over real MQTT that answers commands like an agent.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { healthHistory } from '../../schemas/db.ts';
import { commandMessage, topicFor, type CommandMessage, type HealthSample } from '../../schemas/wire.ts';
import { connectDevice, publish, registerAndEnroll, type EnrolledDevice } from '../helpers/devices.ts';
import type { TestServer } from '../helpers/testServer.ts';

declare global {
  /** Marks the browser tests leave on a page, to read back later from the same page. */
  interface Window {
    /** Every data-state the live indicator took since the mark was set. */
    liveStates?: string[];
    /** Set once; still there later means the page was not reloaded. */
    stillHere?: boolean;
  }
}

export const ARTIFACTS = join(process.cwd(), 'test-artifacts', 'browser');

export async function launchBrowser(): Promise<Browser> {
  const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
  if (!existsSync(executablePath)) throw new Error(`no chromium at ${executablePath}: apt-get install -y chromium (or set CHROMIUM_PATH)`);
  return chromium.launch({
    executablePath,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-dev-shm-usage',
    ],
  });
}

/** A browser with one light desktop-sized page whose errors are collected (watchConsole). */
export interface DashboardWindow {
  browser: Browser;
  context: BrowserContext;
  page: Page;
  errors: string[];
  /** Closes page and browser; never throws, so it can run in afterAll after a failed start. */
  close(): Promise<void>;
}

export async function openDashboardWindow(): Promise<DashboardWindow> {
  const browser = await launchBrowser();
  const context = await browser.newContext({ viewport: { width: 1366, height: 900 }, colorScheme: 'light' });
  const page = await context.newPage();
  return {
    browser,
    context,
    page,
    errors: watchConsole(page),
    async close() {
      await context.close().catch(() => undefined);
      await browser.close().catch(() => undefined);
    },
  };
}

export async function shot(page: Page, name: string, opts: { fullPage?: boolean } = {}) {
  mkdirSync(ARTIFACTS, { recursive: true });
  // Toasts are fixed to the corner and pile up in a scripted run: keep them out of the picture.
  await page.evaluate(() => document.getElementById('toasts')?.replaceChildren());
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: opts.fullPage ?? true });
}

/** Collects page errors and failed requests so a test can assert the page ran cleanly. */
export function watchConsole(page: Page) {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && !/401|403|404|409|422/.test(m.text())) errors.push(`console: ${m.text()}`);
  });
  return errors;
}

export async function signIn(page: Page, url: string, token: string, path = '/ui/') {
  await page.goto(`${url}${path}`);
  await page.getByLabel('API token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('#mainnav').waitFor({ state: 'visible' });
}

export type CommandHandler = (cmd: CommandMessage, term: FakeTerminal) => Promise<void> | void;

export interface FakeTerminal {
  device: EnrolledDevice;
  /** The current connection (a new one after reconnect). */
  readonly client: MqttClient;
  fwVersion: string;
  received: CommandMessage[];
  health(sample: Partial<HealthSample>): Promise<void>;
  ack(cmdId: string, state: string, extra?: Record<string, unknown>): Promise<void>;
  state(extra?: Record<string, unknown>): Promise<void>;
  /** Handler per command type; default: `succeeded` at once. */
  on(type: string, handler: CommandHandler): void;
  /** A new connection after the old one dropped (same credentials, same handlers). */
  reconnect(): Promise<void>;
  close(): Promise<void>;
}

let seq = 0;

/** Registers, enrolls and connects a terminal that answers commands (acks) like the agent. */
export async function fakeTerminal(t: TestServer, opts: { serial?: string; model?: string } = {}): Promise<FakeTerminal> {
  const device = await registerAndEnroll(t, opts);
  const handlers = new Map<string, CommandHandler>();

  async function attach(): Promise<MqttClient> {
    const client = await connectDevice(device);
    client.on('message', (_topic, payload) => {
      const parsed = commandMessage.safeParse(JSON.parse(payload.toString()));
      if (!parsed.success) return;
      const cmd = parsed.data;
      term.received.push(cmd);
      void (async () => {
        await term.ack(cmd.id, 'received');
        const handler = handlers.get(cmd.type);
        if (handler) await handler(cmd, term);
        else await term.ack(cmd.id, 'succeeded', { result: {} });
      })().catch(() => undefined);
    });
    await client.subscribeAsync(topicFor(device.deviceId, 'cmd'), { qos: 1 });
    return client;
  }

  // Messages arrive from the socket, after `term` below exists.
  let client = await attach();
  const term: FakeTerminal = {
    device,
    get client() {
      return client;
    },
    fwVersion: '1.0.0',
    received: [],
    async health(sample) {
      await publish(term.client, topicFor(device.deviceId, 'health'), { ts: Date.now(), seq: ++seq, ...sample });
    },
    async ack(cmdId, state, extra = {}) {
      await publish(term.client, topicFor(device.deviceId, 'ack'), { cmdId, state, ...extra });
    },
    async state(extra = {}) {
      await publish(
        term.client,
        topicFor(device.deviceId, 'state'),
        { online: true, fwVersion: term.fwVersion, slot: 'A', ts: Date.now(), ...extra },
        1,
        true,
      );
    },
    on(type, handler) {
      handlers.set(type, handler);
    },
    async reconnect() {
      client.end(true);
      client = await attach();
      await term.state();
    },
    async close() {
      await term.client.endAsync(true);
    },
  };
  await term.state();
  return term;
}

/** Writes a day of plausible health history for the charts (one sample per 5 minutes). */
export async function seedHealthHistory(t: TestServer, deviceId: string, hours = 24) {
  const now = Date.now();
  const step = 5 * 60_000;
  const rows: (typeof healthHistory.$inferInsert)[] = [];
  for (let at = now - hours * 3600_000, i = 0; at < now; at += step, i++) {
    const hour = new Date(at).getUTCHours() + new Date(at).getUTCMinutes() / 60;
    const charging = hour >= 21 || hour < 6;
    // Full at 06:00, down to ~20% by 21:00, charging back overnight.
    const battery = charging ? 20 + ((hour >= 21 ? hour - 21 : hour + 3) / 9) * 80 : 100 - ((hour - 6) / 15) * 80;
    const sample: HealthSample = {
      ts: at,
      seq: i,
      battery: { level: Math.round(battery), charging },
      temperatureC: Math.round((34 + 8 * Math.sin(i / 20) + (i % 7) * 0.4) * 10) / 10,
      signal: { type: 'cellular', rssi: Math.round(-70 - 12 * Math.sin(i / 13) - (i % 5)) },
      storage: { freeMb: 900 - i, totalMb: 4096 },
      printer: { status: 'ok' },
    };
    rows.push({ deviceId, ts: new Date(at), sample });
  }
  for (let i = 0; i < rows.length; i += 200) await t.server.parts.db.insert(healthHistory).values(rows.slice(i, i + 200));
  return rows.length;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
