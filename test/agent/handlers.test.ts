import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commandTypes } from '../../schemas/wire.ts';
import { builtinHandlers } from '../../agent/handlers/index.ts';
import type { AgentConfig } from '../../agent/schemas.ts';
import { openStateStore } from '../../agent/stateStore.ts';
import { ackRecordingDispatcher, testHandlerEnv, tempDir } from './helpers.ts';

let uploads: Array<{ method: string; url: string; type: string; body: string }> = [];
let http: Server;
let base: string;
beforeAll(async () => {
  http = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      uploads.push({ method: req.method ?? '', url: req.url ?? '', type: req.headers['content-type'] ?? '', body });
      res.writeHead(req.url?.includes('denied') ? 403 : 200).end();
    });
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', () => r()));
  base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
});
afterAll(async () => {
  const closed = new Promise<void>((r) => http.close(() => r()));
  http.closeAllConnections();
  await closed;
});

function setup() {
  const store = openStateStore(tempDir());
  const applied: AgentConfig[] = [];
  let reboots = 0;
  const env = testHandlerEnv(store, {
    reboot: async () => void reboots++,
    applyConfig: (c) => applied.push(c),
    logBundle: () => 'bundle: hello\nline two\n',
  });
  const { acks, send } = ackRecordingDispatcher(builtinHandlers(env));
  let n = 0;
  const run = async (type: string, payload: Record<string, unknown> = {}) => {
    const id = `c${++n}`;
    await send(id, type, payload);
    return acks.filter((a) => a.cmdId === id);
  };
  return { run, env, store, hardware: env.hardware, applied, reboots: () => reboots };
}

describe('command handlers', () => {
  it('lock / unlock persist the lock state and report it', async () => {
    const { run, store } = setup();
    expect((await run('lock')).at(-1)).toMatchObject({ state: 'succeeded', result: { locked: true } });
    expect(store.loadLock().locked).toBe(true);
    expect((await run('unlock')).at(-1)).toMatchObject({ state: 'succeeded', result: { locked: false } });
    expect(openStateStore(store.dir).loadLock().locked).toBe(false);
  });

  it('config.set merges into the persisted config and applies it', async () => {
    const { run, store, applied } = setup();
    await run('config.set', { healthIntervalS: 30 });
    await run('config.set', { cardBlacklist: ['abc'] });
    expect(store.loadConfig()).toEqual({ healthIntervalS: 30, cardBlacklist: ['abc'] });
    expect(applied.at(-1)).toEqual({ healthIntervalS: 30, cardBlacklist: ['abc'] });
    expect((await run('config.set', { healthIntervalS: 0 })).at(-1)).toMatchObject({ state: 'rejected', error: { code: 'invalid_payload' } });
    expect(store.loadConfig().healthIntervalS).toBe(30);
  });

  it('diag.run reports each component and fails the ones with injected faults', async () => {
    const { run, hardware } = setup();
    hardware.inject('paperOut');
    hardware.inject('readerError');
    const acks = await run('diag.run');
    expect(acks.filter((a) => a.state === 'in_progress').map((a) => a.stage)).toEqual([
      'testing_printer',
      'testing_cardReader',
      'testing_storage',
      'testing_network',
    ]);
    expect(acks.at(-1)).toMatchObject({ state: 'succeeded', result: { printer: 'fail', cardReader: 'fail', storage: 'pass', network: 'pass' } });
  });

  it('logs.upload PUTs the bundle as text and fails with upload_failed on refusal or no server', async () => {
    const { run } = setup();
    uploads = [];
    expect((await run('logs.upload', { url: `${base}/upload/x?sig=1` })).at(-1)).toMatchObject({ state: 'succeeded', result: { status: 200 } });
    expect(uploads).toEqual([{ method: 'PUT', url: '/upload/x?sig=1', type: 'text/plain; charset=utf-8', body: 'bundle: hello\nline two\n' }]);
    expect((await run('logs.upload', { url: `${base}/denied` })).at(-1)).toMatchObject({ state: 'failed', error: { code: 'upload_failed' } });
    expect((await run('logs.upload', { url: 'http://127.0.0.1:1/x' })).at(-1)).toMatchObject({ state: 'failed', error: { code: 'upload_failed' } });
    expect((await run('logs.upload', { url: 'ftp://x' })).at(-1)).toMatchObject({ state: 'rejected', error: { code: 'invalid_payload' } });
  });

  it('reboot acks in_progress rebooting before restarting', async () => {
    const { run, reboots } = setup();
    const acks = await run('reboot');
    expect(acks.map((a) => [a.state, a.stage])).toEqual([
      ['received', undefined],
      ['in_progress', 'rebooting'],
      ['succeeded', undefined],
    ]);
    expect(reboots()).toBe(1);
  });

  it('registers a handler for every command type of the protocol', () => {
    const registry = builtinHandlers(setup().env);
    expect(Object.keys(registry).sort()).toEqual([...commandTypes].sort());
  });
});
