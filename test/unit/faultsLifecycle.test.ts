// The fault lifecycle, the webhook signature, the signed upload links and open-fault memory.
import { describe, expect, it } from 'vitest';
import type { FaultRow } from '../../schemas/tables/faults.ts';
import { statesAllowing, transition } from '../../server/faults/lifecycle.ts';
import { createOpenFaults } from '../../server/faults/openFaults.ts';
import { checkUpload, signUpload, uploadUrl } from '../../server/faults/signedUrl.ts';
import { atOrAbove, isPermanentFailure, signWebhook, verifyWebhook } from '../../server/faults/webhook.ts';
import { createSecretHasher } from '../../server/security/secretHasher.ts';

describe('fault lifecycle', () => {
  it('open → acknowledged → resolved', () => {
    expect(transition('open', 'acknowledge')).toEqual({ ok: true, state: 'acknowledged' });
    expect(transition('acknowledged', 'resolve')).toEqual({ ok: true, state: 'resolved' });
    expect(transition('open', 'resolve')).toEqual({ ok: true, state: 'resolved' });
  });

  it('refuses what makes no sense, with a stable code', () => {
    expect(transition('acknowledged', 'acknowledge')).toMatchObject({ ok: false, code: 'already_acknowledged' });
    expect(transition('resolved', 'acknowledge')).toMatchObject({ ok: false, code: 'fault_resolved' });
    expect(transition('resolved', 'resolve')).toMatchObject({ ok: false, code: 'fault_resolved' });
    expect(transition('resolved', 'assign')).toMatchObject({ ok: false, code: 'fault_resolved' });
  });

  it('assigning keeps the state; notes go on any fault', () => {
    expect(transition('open', 'assign')).toEqual({ ok: true, state: 'open' });
    expect(transition('acknowledged', 'assign')).toEqual({ ok: true, state: 'acknowledged' });
    expect(statesAllowing('note')).toEqual(['open', 'acknowledged', 'resolved']);
    expect(statesAllowing('acknowledge')).toEqual(['open']);
    expect(statesAllowing('resolve')).toEqual(['open', 'acknowledged']);
  });
});

describe('open faults in memory', () => {
  const row = (id: string, deviceId: string, code: string) => ({ id, deviceId, code }) as FaultRow;
  it('one per device and code; removal cleans up', () => {
    const m = createOpenFaults();
    const a = row('f1', 'd1', 'paper_out');
    m.add(a);
    m.add(row('f2', 'd1', 'tamper'));
    expect([...m.codes('d1')!.keys()]).toEqual(['paper_out', 'tamper']);
    const b = row('f3', 'd1', 'paper_out');
    m.add(b);
    expect(m.get('f1')).toBeUndefined();
    expect(m.find('d1', 'paper_out')).toBe(b);
    m.remove(a); // stale: not the current one
    expect(m.find('d1', 'paper_out')).toBe(b);
    m.remove(b);
    m.remove(m.get('f2')!);
    expect(m.codes('d1')).toBeUndefined();
    expect(m.size()).toBe(0);
  });
});

describe('webhook signature', () => {
  it('HMAC-SHA256 of the raw body, hex, prefixed; verified in constant time', () => {
    const body = JSON.stringify({ event: 'fault.opened' });
    const sig = signWebhook('0123456789abcdef', body);
    expect(sig).toMatch(/^sha256=[0-9a-f]{64}$/);
    expect(verifyWebhook('0123456789abcdef', body, sig)).toBe(true);
    expect(verifyWebhook('0123456789abcdeX', body, sig)).toBe(false);
    expect(verifyWebhook('0123456789abcdef', `${body} `, sig)).toBe(false);
    expect(verifyWebhook('0123456789abcdef', body, undefined)).toBe(false);
  });

  it('severity floor and retry policy', () => {
    expect(atOrAbove('critical', 'critical')).toBe(true);
    expect(atOrAbove('major', 'critical')).toBe(false);
    expect(atOrAbove('warning', 'warning')).toBe(true);
    expect(isPermanentFailure(400)).toBe(true);
    expect(isPermanentFailure(429)).toBe(false);
    expect(isPermanentFailure(408)).toBe(false);
    expect(isPermanentFailure(503)).toBe(false);
  });
});

describe('signed upload links', () => {
  const hasher = createSecretHasher(Buffer.alloc(32, 7));
  const other = createSecretHasher(Buffer.alloc(32, 8));
  it('valid until exp, for that bundle only, under that server key only', () => {
    const exp = 10_000;
    const sig = signUpload(hasher, 'lb_aaaaaaaaaaaaaaaa', exp);
    expect(checkUpload(hasher, 'lb_aaaaaaaaaaaaaaaa', String(exp), sig, 5_000)).toEqual({ ok: true });
    expect(checkUpload(hasher, 'lb_aaaaaaaaaaaaaaaa', String(exp), sig, 10_000)).toEqual({ ok: false, reason: 'expired' });
    expect(checkUpload(hasher, 'lb_bbbbbbbbbbbbbbbb', String(exp), sig, 5_000)).toEqual({ ok: false, reason: 'bad_signature' });
    expect(checkUpload(hasher, 'lb_aaaaaaaaaaaaaaaa', String(exp + 1), sig, 5_000)).toEqual({ ok: false, reason: 'bad_signature' });
    expect(checkUpload(other, 'lb_aaaaaaaaaaaaaaaa', String(exp), sig, 5_000)).toEqual({ ok: false, reason: 'bad_signature' });
    expect(checkUpload(hasher, 'lb_aaaaaaaaaaaaaaaa', '1e9', sig, 5_000)).toEqual({ ok: false, reason: 'bad_signature' });
    expect(checkUpload(hasher, 'lb_aaaaaaaaaaaaaaaa', String(exp), 'nothex', 5_000)).toEqual({ ok: false, reason: 'bad_signature' });
  });

  it('builds the link from the public base URL', () => {
    expect(uploadUrl('https://tms.example/', 'lb_x', 5, 'ab')).toBe('https://tms.example/v1/uploads/logs/lb_x?exp=5&sig=ab');
  });
});
