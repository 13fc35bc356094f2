// DUKPT through the agent's own doors, without a broker: keys.install through the real dispatcher
// and key handlers (the ack's dukptCheck and inventory as the server gets them), and PIN payments
// of the payment app and the simulated traffic, which move the counter until the slot is used up.
import { describe, expect, it } from 'vitest';
import { useCountersUntil } from '../../agent/keys/dukptSimulation.ts';
import { keyHandlers } from '../../agent/keys/keyHandlers.ts';
import { createPaymentApp } from '../../agent/paymentApp.ts';
import { nextPayment, type PaymentTraffic } from '../../agent/simulatedPayments.ts';
import { openStateStore } from '../../agent/stateStore.ts';
import * as aes from '../../schemas/keyCrypto/dukptAes.ts';
import * as tdes from '../../schemas/keyCrypto/dukptTdes.ts';
import { keysInstallResult } from '../../schemas/keys.ts';
import { terminalAckStates } from '../../schemas/wire.ts';
import { ackRecordingDispatcher, fakeEnrollment, testHandlerEnv } from '../agent/helpers.ts';
import { bindingClaims } from '../helpers/binding.ts';
import { aes128 } from './dukptAesVectors.ts';
import { DEV, ikItem, published, reopen, terminalWithTmk } from './dukptAgentFixtures.ts';

const h = (s: string) => Buffer.from(s, 'hex');
const until = async (cond: () => boolean) => {
  for (let i = 0; i < 400 && !cond(); i++) await new Promise((r) => setTimeout(r, 25));
};

function enrolledTerminal() {
  const t = terminalWithTmk();
  const store = openStateStore(t.dir);
  store.saveEnrollment(fakeEnrollment(DEV, 'mqtt://127.0.0.1:1'));
  const { acks, send } = ackRecordingDispatcher(keyHandlers(testHandlerEnv(store)));
  const finalAck = async (id: string) => {
    await until(() => acks.some((a) => a.cmdId === id && terminalAckStates.includes(a.state)));
    return acks.filter((a) => a.cmdId === id).at(-1);
  };
  return { ...t, store, send, finalAck };
}

describe('keys.install of an initial key, through the dispatcher', () => {
  it('acks the round trip the server opens from the BDK, and reports the counter in every inventory', async () => {
    const { tmk, send, finalAck } = enrolledTerminal();
    send('c1', 'keys.install', { items: [ikItem('aes128', tmk)] });
    const ack = await finalAck('c1');
    expect(ack?.state).toBe('succeeded');
    const result = keysInstallResult.parse(ack?.result);
    expect(result.installed).toEqual([{ slot: 'dukpt', usage: 'IK', keyId: 'key_ik1', version: 1, kcv: ikItem('aes128', tmk).kcv }]);
    const check = result.dukptCheck;
    if (!check) throw new Error('the ack has no dukptCheck');
    expect(check.ksn).toBe('123456789012345600000001');
    const pinKey = aes.hostWorkingKey(h(aes128.bdk), h(check.ksn), 'pinEncryption', 'AES128');
    expect(aes.decipherPinBlock(pinKey, h(check.pinBlock), '4111111111111111')).toBe('1234');
    expect(result.inventory.find((e) => e.slot === 'dukpt')?.dukpt).toMatchObject({ scheme: 'aes128', ksn: check.ksn, counter: 1 });
    // The key report (no items) and the zeroize answer carry the counter too.
    send('c2', 'keys.install', { items: [] });
    expect(keysInstallResult.parse((await finalAck('c2'))?.result).inventory.find((e) => e.slot === 'dukpt')?.dukpt).toMatchObject({
      counter: 1,
    });
    send('c3', 'keys.zeroize', { slots: ['tmk'] });
    expect((await finalAck('c3'))?.result).toMatchObject({ inventory: [{ slot: 'dukpt', dukpt: { counter: 1 } }] });
  });

  it('acks a TDES IPEK with a format 0 block under the PIN variant of its first transaction key', async () => {
    const { tmk, send, finalAck } = enrolledTerminal();
    send('c1', 'keys.install', { items: [ikItem('tdes', tmk)] });
    const check = keysInstallResult.parse((await finalAck('c1'))?.result).dukptCheck;
    if (!check) throw new Error('the ack has no dukptCheck');
    expect(check.ksn).toBe('FFFF9876543210E00001');
    const txnKey = tdes.deriveTransactionKey(tdes.deriveIpek(h(published.tdes.bdk), h(check.ksn)), h(check.ksn));
    expect(tdes.decryptPinBlock(txnKey, h(check.pinBlock), '4111111111111111')).toBe('1234');
  });

  it('refuses over the wire with the code, and stores nothing', async () => {
    const { tmk, send, finalAck, dir } = enrolledTerminal();
    send('c1', 'keys.install', { items: [ikItem('aes128', tmk, {}, { kcv: 'cmac:000000' })] });
    expect(await finalAck('c1')).toMatchObject({ state: 'failed', error: { code: 'kcv_mismatch' } });
    expect(reopen(dir).slots()).toEqual([]);
  });
});

describe('PIN payments', () => {
  function boundApp() {
    const t = enrolledTerminal();
    t.store.saveMerchant({ ...t.store.loadMerchant(), binding: { token: 't', claims: bindingClaims({ deviceId: DEV }), acceptedAt: 1 } });
    return { ...t, app: createPaymentApp({ store: t.store, deviceId: DEV, now: () => 1_000_000, raiseEvent: () => undefined }) };
  }

  it('take the next transaction key for each PIN; a payment without a PIN takes none', async () => {
    const { tmk, send, finalAck, app, dir } = boundApp();
    expect(app.pay({ amountMinor: 100, pan: '4111111111111111', pin: '4321' })).toEqual({ approved: true, txnId: expect.any(String) });
    send('c1', 'keys.install', { items: [ikItem('aes128', tmk)] });
    await finalAck('c1');
    const r = app.pay({ amountMinor: 100, pan: '4000000000000002', pin: '4321' });
    if (!r.approved || !r.pinBlock) throw new Error(`expected an approved PIN payment, got ${JSON.stringify(r)}`);
    expect(r.pinBlock.ksn).toBe('123456789012345600000002');
    const pinKey = aes.hostWorkingKey(h(aes128.bdk), h(r.pinBlock.ksn), 'pinEncryption', 'AES128');
    expect(aes.decipherPinBlock(pinKey, h(r.pinBlock.pinBlock), '4000000000000002')).toBe('4321');
    expect(app.pay({ amountMinor: 100, pan: '4000000000000002' })).not.toHaveProperty('pinBlock');
    expect(reopen(dir).state('dukpt')).toMatchObject({ counter: 2 });
  });

  it('are declined pin_unavailable once the initial key is used up; payments without a PIN go on', async () => {
    const { tmk, send, finalAck, app, dir } = boundApp();
    send('c1', 'keys.install', { items: [ikItem('aes128', tmk)] });
    await finalAck('c1');
    useCountersUntil(dir, 'dukpt', 1);
    expect(app.pay({ amountMinor: 100, pan: '4111111111111111', pin: '1234' })).toMatchObject({
      approved: true,
      pinBlock: { ksn: '1234567890123456FFFF0000' },
    });
    expect(reopen(dir).state('dukpt')).toMatchObject({ countersLeft: 0 });
    expect(app.pay({ amountMinor: 100, pan: '4111111111111111', pin: '1234' })).toMatchObject({
      approved: false,
      reason: 'pin_unavailable',
    });
    expect(app.pay({ amountMinor: 100, pan: '4111111111111111' })).toMatchObject({ approved: true });
  });

  it('simulated traffic asks for PINs only when told to, and leaves seeded traffic without them as it was', () => {
    const seq = (seed: number) => {
      let x = seed;
      return () => (x = (x * 16807) % 2147483647) / 2147483647;
    };
    const base: PaymentTraffic = { pattern: 'steady', meanIntervalS: 10, meanAmountMinor: 1000 };
    const plans = (t: PaymentTraffic) => {
      const random = seq(7);
      let state = { runLeft: 0, runCard: '' };
      return Array.from({ length: 20 }, () => {
        const n = nextPayment(t, state, random, {});
        state = n.state;
        return n.plan;
      });
    };
    const none = plans(base);
    expect(none.some((p) => p.payment.pin)).toBe(false);
    expect(plans({ ...base, pinShare: 0 })).toEqual(none);
    const all = plans({ ...base, pinShare: 1 });
    expect(all.every((p) => /^[0-9]{4}$/.test(p.payment.pin ?? ''))).toBe(true);
  });
});
