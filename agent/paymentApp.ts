// The terminal's payment application, as far as the TMS is concerned: it takes payments only as
// paymentRules allow, keeps today's figures (reported in health as `txn`) and a short journal,
// and reports each attempt as a `txn` event. State lives in the state dir, so limits hold across
// restarts and while offline.
import { createHash } from 'node:crypto';
import {
  CONFIG_KEY_CARD_BLACKLIST,
  CONFIG_KEY_POLICY,
  cardBlacklistConfig,
  terminalPolicy,
  type BindingClaims,
  type CardBlacklistConfig,
  type TerminalPolicy,
  type TxnDeclineReason,
  type TxnEventData,
} from '../schemas/binding.ts';
import type { DukptCheck } from '../schemas/keys.ts';
import type { DeviceEvent, HealthSample, Severity } from '../schemas/wire.ts';
import { enterPin, openDukptTerminal, type DukptTerminal } from './keys/dukptTerminal.ts';
import { openSecureStore } from './keys/secureStore.ts';
import type { AgentConfig } from './schemas.ts';
import { JOURNAL_MAX } from './merchantState.ts';
import { decidePayment, figuresToday, type PaymentRequest } from './paymentRules.ts';
import type { StateStore } from './stateStore.ts';

export interface Payment extends Omit<PaymentRequest, 'cardHash'> {
  /** Card number as read; only its salted hash leaves this function. */
  pan?: string;
  /** PIN as entered; only its block, enciphered under the next DUKPT transaction key, leaves this function. */
  pin?: string;
}

/** `pinBlock`: the PIN payment's block and KSN, as the terminal would send them to its acquirer. */
export type PaymentResult = { approved: true; txnId: string; pinBlock?: DukptCheck } | { approved: false; txnId: string; reason: TxnDeclineReason };

export interface PaymentApp {
  pay(p: Payment): PaymentResult;
  /** Today's figures for the health sample; undefined while unbound. */
  figures(): NonNullable<HealthSample['txn']> | undefined;
  policy(): TerminalPolicy | undefined;
  /** The binding the terminal holds (merchant, TID, sub-merchants), or null. */
  binding(): BindingClaims | null;
}

export interface PaymentAppDeps {
  store: StateStore;
  deviceId: string;
  now: () => number;
  raiseEvent(type: DeviceEvent['type'], data: DeviceEvent['data'], severity?: Severity): void;
  /** The DUKPT slots PINs are enciphered under; by default those of the key store in the state dir. */
  pinPad?: DukptTerminal;
}

export function cardHashOf(saltBase64: string, pan: string): string {
  return createHash('sha256')
    .update(Buffer.concat([Buffer.from(saltBase64, 'base64'), Buffer.from(pan, 'utf8')]))
    .digest('hex');
}

export function policyFromConfig(config: AgentConfig): TerminalPolicy | undefined {
  const p = terminalPolicy.safeParse(config[CONFIG_KEY_POLICY]);
  return p.success ? p.data : undefined;
}
export function cardBlacklistFromConfig(config: AgentConfig): CardBlacklistConfig | undefined {
  const p = cardBlacklistConfig.safeParse(config[CONFIG_KEY_CARD_BLACKLIST]);
  return p.success ? p.data : undefined;
}

export function createPaymentApp(d: PaymentAppDeps): PaymentApp {
  const pinPad = d.pinPad ?? openDukptTerminal(d.store.dir, openSecureStore(d.store.dir));
  return {
    policy: () => policyFromConfig(d.store.loadConfig()),
    binding: () => d.store.loadMerchant().binding?.claims ?? null,
    pay(p) {
      const state = d.store.loadMerchant();
      const config = d.store.loadConfig();
      const policy = policyFromConfig(config);
      const cards = cardBlacklistFromConfig(config);
      const nowMs = d.now();
      const cardHash = p.pan && cards ? cardHashOf(cards.salt, p.pan) : undefined;
      // A PIN takes a transaction counter whatever the outcome, as on a real PIN pad.
      const pinBlock = p.pin ? enterPin(pinPad, p.pin, p.pan) : undefined;
      const decision = pinBlock === null ? ({ approved: false, reason: 'pin_unavailable' } as const) : decidePayment(
        {
          binding: state.binding?.claims ?? null,
          locked: d.store.loadLock().locked,
          policy,
          cardBlacklist: cards,
          figures: state.figures,
          nowMs,
        },
        { amountMinor: p.amountMinor, currency: p.currency, merchantId: p.merchantId, subMerchantId: p.subMerchantId, cardHash },
      );
      const txnSeq = state.txnSeq + 1;
      const txnId = `${d.deviceId.slice(-8)}-${nowMs.toString(36)}-${txnSeq}`;
      const currency = p.currency ?? policy?.currency ?? 'XXX';
      const entry = {
        txnId,
        at: nowMs,
        amountMinor: p.amountMinor,
        currency,
        result: decision.approved ? ('approved' as const) : ('declined' as const),
        ...(decision.approved ? {} : { reason: decision.reason }),
        ...(p.subMerchantId ? { subMerchantId: p.subMerchantId } : {}),
      };
      d.store.saveMerchant({
        ...state,
        txnSeq,
        figures: decision.approved ? decision.figures : state.figures,
        journal: [...state.journal, entry].slice(-JOURNAL_MAX),
      });
      const event: TxnEventData = {
        txnId,
        amountMinor: p.amountMinor,
        currency,
        result: entry.result,
        ...(decision.approved ? { day: decision.figures.day } : { reason: decision.reason }),
        ...(state.binding ? { merchantId: state.binding.claims.merchantId } : {}),
        ...(p.subMerchantId ? { subMerchantId: p.subMerchantId } : {}),
        ...(cardHash ? { cardHash } : {}),
      };
      d.raiseEvent('txn', event, decision.approved ? undefined : 'info');
      return decision.approved ? { approved: true, txnId, ...(pinBlock ? { pinBlock } : {}) } : { approved: false, txnId, reason: decision.reason };
    },
    figures() {
      const state = d.store.loadMerchant();
      if (!state.binding) return undefined;
      const policy = policyFromConfig(d.store.loadConfig());
      const usable = policy && policy.merchantId === state.binding.claims.merchantId ? policy : undefined;
      return figuresToday({ policy: usable, figures: state.figures, nowMs: d.now() });
    },
  };
}
