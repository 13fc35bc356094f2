// The tiers of docs/parameters.md "Tiers and precedence", lowest first, as the page states them;
// the order is the shared schema's (schemas/parameters.ts parameterTiers), which precedence.ts decides by.
import { parameterTiers, type ParameterTier } from '../../../../schemas/parameters.ts';

const meaning: Record<ParameterTier, string> = {
  default: "the template's field defaults",
  model: "values assigned to the terminal's model",
  organisation: "each organisation node on the terminal's path, root first, its own node last",
  group: 'the static groups the terminal is in (two groups setting one key: the group whose id sorts last wins)',
  merchant: 'the merchant the terminal is bound to',
  terminal: 'the terminal itself (an override)',
};

export const tiersLowestFirst = parameterTiers.map((tier) => ({ tier, meaning: meaning[tier] }));

/** Where a tier sorts in precedence (for listing assignments lowest first). */
export const tierRank = (tier: string): number => parameterTiers.findIndex((t) => t === tier);

/** What the target id of an assignment of this tier is. */
export const targetLabel: Record<Exclude<ParameterTier, 'default'>, string> = {
  model: 'Model name',
  organisation: 'Organisation id (org_…)',
  group: 'Group id (grp_…)',
  merchant: 'Merchant id (mer_…)',
  terminal: 'Device id (dev_…)',
};

/** The values box's text as an object, or why not (the server checks each value against the template). */
export function parseValues(text: string): { values: Record<string, unknown> } | { problem: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { problem: 'Values are a JSON object, e.g. {"currency": "USD", "timeoutS": 45}.' };
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    return { problem: 'Values are a JSON object of field keys and values.' };
  return { values: Object.fromEntries(Object.entries(parsed)) };
}
