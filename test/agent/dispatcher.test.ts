import { describe, expect, it } from 'vitest';
import { ackMessage, type AckMessage, type CommandMessage } from '../../schemas/wire.ts';
import { CommandError, createDispatcher, type HandlerRegistry } from '../../agent/dispatcher.ts';
import { createSeenLog } from '../../agent/seen.ts';
import type { SeenCommand } from '../../agent/schemas.ts';
import { silentLog } from './helpers.ts';

const NOW = 1_700_000_000_000;

function setup(handlers: HandlerRegistry, initial: SeenCommand[] = []) {
  const acks: AckMessage[] = [];
  let persisted: SeenCommand[] = [];
  const seen = createSeenLog({ initial, limit: 50, persist: (l) => (persisted = l) });
  const d = createDispatcher({
    handlers,
    seen,
    sendAck: (a) => acks.push(ackMessage.parse(a)),
    now: () => NOW,
    log: silentLog,
  });
  return { d, acks, persisted: () => persisted };
}

const cmd = (over: Omit<Partial<CommandMessage>, 'type'> & { type: string }) => JSON.stringify({ id: 'c1', issuedAt: NOW - 1000, payload: {}, ...over });

describe('dispatcher', () => {
  it('acks received → in_progress → succeeded with the handler result', async () => {
    const { d, acks } = setup({
      'diag.run': async (ctx) => {
        ctx.progress('testing_printer', 0);
        ctx.progress('testing_network', 50);
        return { printer: 'pass' };
      },
    });
    await d.handle(cmd({ type: 'diag.run' }));
    expect(acks.map((a) => [a.state, a.stage, a.progress])).toEqual([
      ['received', undefined, undefined],
      ['in_progress', 'testing_printer', 0],
      ['in_progress', 'testing_network', 50],
      ['succeeded', undefined, undefined],
    ]);
    expect(acks.at(-1)?.result).toEqual({ printer: 'pass' });
  });

  it('acts on a duplicated command once and re-sends only its final ack', async () => {
    let runs = 0;
    const { d, acks } = setup({
      lock: async () => {
        runs++;
        return { locked: true };
      },
    });
    const first = d.handle(cmd({ type: 'lock' }));
    const dupWhileRunning = d.handle(cmd({ type: 'lock' }));
    await Promise.all([first, dupWhileRunning]);
    expect(runs).toBe(1);
    expect(acks.map((a) => a.state)).toEqual(['received', 'succeeded']);
    await d.handle(cmd({ type: 'lock' }));
    expect(runs).toBe(1);
    expect(acks.map((a) => a.state)).toEqual(['received', 'succeeded', 'succeeded']);
    expect(acks[2]).toEqual(acks[1]);
  });

  it('remembers finished commands across restarts (persisted seen log)', async () => {
    let runs = 0;
    const handlers: HandlerRegistry = { unlock: async () => void runs++ };
    const a = setup(handlers);
    await a.d.handle(cmd({ type: 'unlock' }));
    const b = setup(handlers, a.persisted());
    await b.d.handle(cmd({ type: 'unlock' }));
    expect(runs).toBe(1);
    expect(b.acks.map((x) => x.state)).toEqual(['succeeded']);
  });

  it('rejects an expired command with error.code expired, without running it', async () => {
    let runs = 0;
    const { d, acks } = setup({ reboot: async () => void runs++ });
    await d.handle(cmd({ type: 'reboot', expiresAt: NOW - 1 }));
    expect(runs).toBe(0);
    expect(acks).toEqual([{ cmdId: 'c1', state: 'rejected', error: { code: 'expired', message: expect.any(String) } }]);
  });

  it('rejects unknown and unregistered types with unsupported_command', async () => {
    const { d, acks } = setup({});
    await d.handle(cmd({ id: 'u1', type: 'self.destruct' }));
    await d.handle(cmd({ id: 'u2', type: 'ota.install' }));
    expect(acks.map((a) => [a.cmdId, a.state, a.error?.code])).toEqual([
      ['u1', 'rejected', 'unsupported_command'],
      ['u2', 'rejected', 'unsupported_command'],
    ]);
  });

  it('rejects schema violations with an id, and drops garbage without one', async () => {
    const { d, acks } = setup({});
    await d.handle(JSON.stringify({ id: 'bad', type: 'lock', issuedAt: 'yesterday' }));
    await d.handle('not json');
    await d.handle(JSON.stringify({ type: 'lock' }));
    expect(acks.map((a) => [a.cmdId, a.state, a.error?.code])).toEqual([['bad', 'rejected', 'invalid_command']]);
  });

  it('parses the payload by its type before the handler runs, and refuses one that does not fit with its path', async () => {
    const seen: unknown[] = [];
    const { d, acks } = setup({
      'diag.run': async (ctx) => {
        seen.push(ctx.payload.components);
        return {};
      },
    });
    await d.handle(cmd({ id: 'ok', type: 'diag.run', payload: { components: ['printer'] } }));
    await d.handle(cmd({ id: 'bad', type: 'diag.run', payload: { components: ['printer', 'toaster'] } }));
    expect(seen).toEqual([['printer']]);
    expect(acks.filter((a) => a.cmdId === 'bad').map((a) => a.state)).toEqual(['received', 'rejected']);
    expect(acks.at(-1)?.error).toMatchObject({ code: 'invalid_payload', message: expect.stringMatching(/^components\.1: /) });
  });

  it('reports handler errors as failed (typed) or internal_error (unexpected)', async () => {
    const { d, acks } = setup({
      'logs.upload': async () => {
        throw new CommandError('upload_failed', 'HTTP 500');
      },
      'config.set': async () => {
        throw new Error('boom');
      },
    });
    await d.handle(cmd({ id: 'a', type: 'logs.upload', payload: { url: 'http://127.0.0.1:1/u' } }));
    await d.handle(cmd({ id: 'b', type: 'config.set' }));
    expect(acks.filter((a) => a.state === 'failed').map((a) => [a.cmdId, a.error?.code])).toEqual([
      ['a', 'upload_failed'],
      ['b', 'internal_error'],
    ]);
  });

  it('runs commands one at a time in arrival order', async () => {
    const order: string[] = [];
    const slow = (name: string, ms: number) => async () => {
      order.push(`start ${name}`);
      await new Promise((r) => setTimeout(r, ms));
      order.push(`end ${name}`);
    };
    const { d } = setup({ lock: slow('lock', 30), unlock: slow('unlock', 1) });
    await Promise.all([d.handle(cmd({ id: 'x', type: 'lock' })), d.handle(cmd({ id: 'y', type: 'unlock' }))]);
    expect(order).toEqual(['start lock', 'end lock', 'start unlock', 'end unlock']);
  });

  it('lets a deferred command run again when re-delivered', async () => {
    let runs = 0;
    const { d, acks } = setup({
      reboot: async () => {
        if (++runs === 1) throw new CommandError('txn_in_progress', 'busy', 'deferred');
      },
    });
    await d.handle(cmd({ type: 'reboot' }));
    await d.handle(cmd({ type: 'reboot' }));
    expect(runs).toBe(2);
    expect(acks.map((a) => a.state)).toEqual(['received', 'deferred', 'received', 'succeeded']);
  });

  it('settles commands interrupted by a restart', () => {
    const { d, acks } = setup({}, [
      { id: 'r', type: 'reboot', at: NOW },
      { id: 'l', type: 'logs.upload', at: NOW },
    ]);
    d.recoverInterrupted();
    expect(acks.map((a) => [a.cmdId, a.state, a.error?.code])).toEqual([
      ['r', 'succeeded', undefined],
      ['l', 'failed', 'interrupted'],
    ]);
  });

  it('forgets the oldest ids beyond its bound', () => {
    const seen = createSeenLog({ limit: 3 });
    for (const id of ['a', 'b', 'c', 'd']) seen.start(id, 'lock', NOW);
    expect(seen.get('a')).toBeUndefined();
    expect(['b', 'c', 'd'].map((id) => seen.get(id))).toEqual(['b', 'c', 'd'].map((id) => ({ id, type: 'lock', at: NOW })));
  });
});
