// Binding tokens: what the server signs, the terminal verifies (docs/binding.md).
import { generateKeyPairSync, sign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { verifyBindingToken } from '../../agent/binding.ts';
import { nextPayment } from '../../agent/simulatedPayments.ts';
import { BINDING_TOKEN_VERSION, openBindingToken, signBindingToken, type BindingClaims } from '../../schemas/binding.ts';
import { seededRandom } from '../../agent/random.ts';
import { bindingClaims, testBindingKey } from '../helpers/binding.ts';

const { pinned, signer } = testBindingKey();
const claims = bindingClaims();

describe('binding token', () => {
  it('has the documented form and verifies with the pinned key', () => {
    const token = signBindingToken(claims, signer);
    expect(token).toMatch(/^pfb1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    const [, payload] = token.split('.');
    expect(JSON.parse(Buffer.from(payload!, 'base64url').toString())).toEqual(claims);
    expect(verifyBindingToken(token, pinned, 'dev_1', null)).toEqual({ ok: true, claims, same: false });
  });

  it('refuses a changed payload, another key, another device, a missing pinned key', () => {
    const token = signBindingToken(claims, signer);
    const [v, , sig] = token.split('.');
    const forgedPayload = Buffer.from(JSON.stringify({ ...claims, merchantId: 'mer_evil' })).toString('base64url');
    expect(verifyBindingToken(`${v}.${forgedPayload}.${sig}`, pinned, 'dev_1', null)).toMatchObject({ ok: false, code: 'bad_signature' });
    const other = generateKeyPairSync('ed25519').privateKey;
    expect(
      verifyBindingToken(
        signBindingToken(claims, (d) => sign(null, d, other)),
        pinned,
        'dev_1',
        null,
      ),
    ).toMatchObject({ ok: false, code: 'bad_signature' });
    expect(verifyBindingToken(token, pinned, 'dev_2', null)).toMatchObject({ ok: false, code: 'wrong_device' });
    expect(verifyBindingToken(token, '', 'dev_1', null)).toMatchObject({ ok: false, code: 'no_pinned_key' });
    expect(verifyBindingToken('garbage', pinned, 'dev_1', null)).toMatchObject({ ok: false, code: 'malformed' });
  });

  it('never lets the epoch go back; the same token again is a harmless repeat', () => {
    const t1 = signBindingToken(claims, signer);
    const t2 = signBindingToken({ ...claims, epoch: 2, merchantId: 'mer_2' }, signer);
    const held = { token: t2, claims: { ...claims, epoch: 2, merchantId: 'mer_2' } };
    expect(verifyBindingToken(t1, pinned, 'dev_1', held)).toMatchObject({ ok: false, code: 'stale_epoch' });
    expect(verifyBindingToken(signBindingToken({ ...claims, epoch: 2 }, signer), pinned, 'dev_1', held)).toMatchObject({
      ok: false,
      code: 'stale_epoch',
    });
    expect(verifyBindingToken(t2, pinned, 'dev_1', held)).toMatchObject({ ok: true, same: true });
    expect(verifyBindingToken(signBindingToken({ ...claims, epoch: 3 }, signer), pinned, 'dev_1', held)).toMatchObject({
      ok: true,
      same: false,
    });
  });
});

describe('binding token codec', () => {
  const b64url = (text: string) => Buffer.from(text, 'utf8').toString('base64url');
  /** A token whose payload is `payloadText`, validly signed: what only the key holder can make. */
  const signedRaw = (payloadText: string) => {
    const input = `${BINDING_TOKEN_VERSION}.${b64url(payloadText)}`;
    return `${input}.${signer(Buffer.from(input, 'ascii')).toString('base64url')}`;
  };

  it('opens what it signed, claims intact, marketplace sub-merchants included', () => {
    const market: BindingClaims = { ...claims, kind: 'marketplace', subMerchants: ['shop-a', 'shop_b'] };
    expect(openBindingToken(signBindingToken(market, signer), pinned)).toEqual({ ok: true, claims: market });
  });

  it('refuses to sign claims outside their schema', () => {
    expect(() => signBindingToken({ ...claims, mid: '123' }, signer)).toThrow();
  });

  it('refuses a tampered signature, payload or version, and claims that are not JSON or not the schema', () => {
    const token = signBindingToken(claims, signer);
    const [v, payload, sig] = token.split('.') as [string, string, string];
    const flipped = Buffer.from(sig, 'base64url');
    flipped[10] = flipped[10]! ^ 0x01;
    expect(openBindingToken(`${v}.${payload}.${flipped.toString('base64url')}`, pinned)).toMatchObject({ ok: false, code: 'bad_signature' });
    expect(openBindingToken(`${v}.${b64url(JSON.stringify({ ...claims, epoch: 99 }))}.${sig}`, pinned)).toMatchObject({ ok: false, code: 'bad_signature' });
    expect(openBindingToken(`pfb2.${payload}.${sig}`, pinned)).toMatchObject({ ok: false, code: 'malformed' });
    expect(openBindingToken(`${v}.${payload}`, pinned)).toMatchObject({ ok: false, code: 'malformed' });
    expect(openBindingToken(`${v}.${payload}.${sig}.x`, pinned)).toMatchObject({ ok: false, code: 'malformed' });
    expect(openBindingToken(`${v}.${payload}.${sig}`, Buffer.alloc(31).toString('base64'))).toMatchObject({ ok: false, code: 'no_pinned_key' });
    expect(openBindingToken(signedRaw('{not json'), pinned)).toEqual({ ok: false, code: 'malformed', message: 'claims are not JSON' });
    expect(openBindingToken(signedRaw(JSON.stringify({ ...claims, admin: true })), pinned)).toMatchObject({ ok: false, code: 'malformed' });
  });
});

describe('simulated payment traffic', () => {
  it('cash-out runs repeat one card with round near-limit amounts', () => {
    const random = seededRandom(3);
    let state = { runLeft: 0, runCard: '' };
    const runs: { pan?: string; amountMinor: number }[] = [];
    for (let i = 0; i < 500; i++) {
      const next = nextPayment(
        { pattern: 'cashout', meanIntervalS: 60, meanAmountMinor: 2500, runChance: 0.1, runLength: 5 },
        state,
        random,
        { singleLimitMinor: 500_000 },
      );
      if (
        state.runLeft > 0 ||
        next.state.runLeft < state.runLeft ||
        (next.state.runLeft > 0 && next.state.runCard === next.plan.payment.pan)
      )
        runs.push(next.plan.payment);
      state = next.state;
    }
    const cashOut = runs.filter((p) => p.amountMinor >= 450_000);
    expect(cashOut.length).toBeGreaterThan(10);
    expect(cashOut.every((p) => p.amountMinor % 10_000 === 0 && p.amountMinor <= 500_000)).toBe(true);
  });

  it('names a sub-merchant on marketplace terminals', () => {
    const next = nextPayment({ pattern: 'steady', meanIntervalS: 1, meanAmountMinor: 100 }, { runLeft: 0, runCard: '' }, seededRandom(1), {
      subMerchants: ['a', 'b'],
    });
    expect(['a', 'b']).toContain(next.plan.payment.subMerchantId);
  });
});
