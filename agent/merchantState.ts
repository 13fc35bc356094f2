// What the terminal keeps about its merchant (state dir file merchant.json): the binding it
// holds, the highest epoch it ever accepted, the applied lock version, today's figures and a
// short journal of transactions. Merchant data (figures, journal, policy) is wiped on a re-binding;
// the epoch high-water mark and lock version never are.
import { z } from 'zod';
import { bindingClaims, CURRENCY_PATTERN, txnDeclineReasons } from '../schemas/binding.ts';

export const dayFigures = z.object({
  day: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
  count: z.number().int().nonnegative(),
  amountMinor: z.number().int().nonnegative(),
  currency: z.string().regex(CURRENCY_PATTERN),
});
export type DayFigures = z.infer<typeof dayFigures>;

export const journalEntry = z.object({
  txnId: z.string(),
  at: z.number().int(),
  amountMinor: z.number().int().nonnegative(),
  currency: z.string(),
  result: z.enum(['approved', 'declined']),
  reason: z.enum(txnDeclineReasons).optional(),
  subMerchantId: z.string().optional(),
});
export type JournalEntry = z.infer<typeof journalEntry>;

export const merchantState = z.object({
  binding: z.object({ token: z.string(), claims: bindingClaims, acceptedAt: z.number().int() }).nullable().default(null),
  highestEpoch: z.number().int().nonnegative().default(0),
  lockVersion: z.number().int().nonnegative().default(0),
  figures: dayFigures.nullable().default(null),
  journal: z.array(journalEntry).max(100).default([]),
  txnSeq: z.number().int().nonnegative().default(0),
});
export type MerchantState = z.infer<typeof merchantState>;

export const emptyMerchantState = (): MerchantState => merchantState.parse({});

export const JOURNAL_MAX = 50;
