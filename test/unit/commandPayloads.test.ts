// The map from command type to payload schema (schemas/commands.ts), shared by the server's
// command creation and the agent's dispatcher.
import { describe, expect, it } from 'vitest';
import { commandPayloadSchemas, parseCommandPayload, redactCommand } from '../../schemas/commands.ts';
import { commandTypes } from '../../schemas/wire.ts';

describe('command payload schemas', () => {
  it('has a schema for every command type and for nothing else', () => {
    expect(Object.keys(commandPayloadSchemas).sort()).toEqual([...commandTypes].sort());
  });

  it('refuses a bad payload with the path of each wrong field', () => {
    expect(parseCommandPayload('diag.run', { components: ['printer', 'toaster'] })).toMatchObject({
      ok: false,
      issues: [{ path: 'components.1' }],
    });
    expect(parseCommandPayload('logs.upload', { url: 'ftp://x' })).toMatchObject({ ok: false, issues: [{ path: 'url', message: 'must be an http(s) URL' }] });
    expect(parseCommandPayload('cancel', {})).toMatchObject({ ok: false, issues: [{ path: 'cmdId' }] });
    expect(parseCommandPayload('config.set', { healthIntervalS: 0 })).toMatchObject({ ok: false, issues: [{ path: 'healthIntervalS' }] });
    const zeroize = parseCommandPayload('keys.zeroize', { slots: ['tmk', 'nope'] });
    expect(zeroize).toMatchObject({ ok: false, issues: [{ path: 'slots.1' }] });
  });

  it('gives the parsed payload of the type, defaults applied and unknown config keys kept', () => {
    expect(parseCommandPayload('diag.run', {})).toEqual({ ok: true, payload: {} });
    expect(parseCommandPayload('config.set', { healthIntervalS: 30, cardBlacklist: { version: 1 } })).toEqual({
      ok: true,
      payload: { healthIntervalS: 30, cardBlacklist: { version: 1 } },
    });
    expect(parseCommandPayload('lock', { version: 2, reason: 'audit' })).toEqual({ ok: true, payload: { version: 2, reason: 'audit' } });
    expect(parseCommandPayload('logs.upload', { url: 'https://x/u', bundleId: 'lb_1' })).toEqual({ ok: true, payload: { url: 'https://x/u', bundleId: 'lb_1' } });
  });
});

describe('redacting commands for API answers', () => {
  const item = { slot: 'tpk', usage: 'TPK', keyId: 'k', version: 1, kcv: 'cmac:ABCDEF', block: 'UEZLMQ==' };

  it('replaces key blocks of keys.install and keeps the rest of the payload', () => {
    const shown = redactCommand({ id: 'cmd_1', type: 'keys.install', payload: { items: [item], rotationId: 'rot_1', attempt: 2 } });
    expect(shown).toEqual({ id: 'cmd_1', type: 'keys.install', payload: { items: [{ ...item, format: 'pfk1', block: '[redacted]' }], rotationId: 'rot_1', attempt: 2 } });
  });

  it('shows nothing of a keys.install payload its schema refuses, and leaves other types alone', () => {
    expect(redactCommand({ type: 'keys.install', payload: { items: [{ block: 'UEZLMQ==' }] } })).toEqual({ type: 'keys.install', payload: { redacted: true } });
    const lock = { type: 'lock', payload: { reason: 'audit' } };
    expect(redactCommand(lock)).toBe(lock);
    const unknown = { type: 'self.destruct', payload: { a: 1 } };
    expect(redactCommand(unknown)).toBe(unknown);
  });
});
