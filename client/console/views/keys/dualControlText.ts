// What a dual-control request asks, in words, from its action and its public params (ids and
// KCVs only; a component never comes back). Pure, for the queue and its confirmation.
import type { z } from 'zod';
import type { keyApproval } from '../../../../server/keys/keySchemas.ts';

type Request = Pick<z.infer<typeof keyApproval>, 'action' | 'params'>;

const text = (v: unknown) => (typeof v === 'string' || typeof v === 'number' ? String(v) : undefined);
const list = (v: unknown) => (Array.isArray(v) ? v.map(String) : []);

export const actionLabels: Record<Request['action'], string> = {
  'master_key.replace': 'Master-key replacement',
  'master_key.import': 'Master-key import',
  'keys.bulk_revoke': 'Bulk key revocation',
  'bdk.import': 'BDK import',
  'bdk.generate': 'BDK generation',
};

export function describeRequest({ action, params }: Request): string {
  switch (action) {
    case 'master_key.replace':
      return 'A new master key; every stored key is re-sealed under it.';
    case 'master_key.import':
      return `A master key from two components; component 1 KCV ${text(params.component1Kcv) ?? '—'}.`;
    case 'keys.bulk_revoke': {
      const usages = list(params.usages);
      return `Revoke ${usages.length ? usages.join(', ') : 'all'} keys of ${list(params.deviceIds).length} terminal(s) and zeroize them.`;
    }
    case 'bdk.import':
      return `BDK “${text(params.name) ?? '?'}” (${text(params.scheme) ?? '?'}, key set ${text(params.keySetId) ?? '?'}) from two components; component 1 KCV ${text(params.component1Kcv) ?? '—'}.`;
    case 'bdk.generate':
      return `A new BDK “${text(params.name) ?? '?'}” (${text(params.scheme) ?? '?'}) generated in the vault.`;
  }
}

/** Approving these takes key component 2 from the approver (docs/keys.md, key and BDK ceremonies). */
export const takesComponent = (action: Request['action']) => action === 'master_key.import' || action === 'bdk.import';
