// Parameter pushes as a campaign kind (server/campaigns/): the engine owns target, phases,
// thresholds, rate, windows, timeouts and retries; this says what the `config.set` carries (the
// terminal's desired set, computed when its command is made, with the template's fields so the
// agent can validate it) and how its ack reads: applied only when the agent names the digest sent.
import { z } from 'zod';
import { finalCommandStates } from '../../schemas/db.ts';
import type { ParametersPush } from '../../schemas/parameters.ts';
import type { CampaignKind, CommandUpdate, OpenCampaign, Verdict } from '../campaigns/campaignKind.ts';
import { unprocessable } from '../errors.ts';
import type { DriftWatch } from './driftWatch.ts';
import type { ParameterStore } from './parameterStore.ts';
import { desiredFor } from './parameterViews.ts';

export const PARAMETERS_KIND = 'parameters';

export const parametersKindParams = z
  .object({
    /** The template version to push; each terminal gets its own desired values of it. */
    templateId: z.string().min(1).max(64),
    /** Lifetime of each config.set command. */
    commandTtlS: z.number().int().min(10).max(7 * 24 * 3600).default(24 * 3600),
  })
  .strict();
export type ParametersKindParams = z.infer<typeof parametersKindParams>;

const appliedAck = z.object({ parameters: z.object({ digest: z.string() }) });
const transientErrors = ['interrupted', 'busy', 'expired', 'internal_error'];

export function judgeParametersAck(u: CommandUpdate, sentDigest: string | undefined): Verdict {
  switch (u.state) {
    case 'received':
    case 'in_progress':
      return { outcome: 'progress', state: 'sent' };
    case 'deferred':
      return { outcome: 'deferred', reason: u.error?.code ?? 'deferred' };
    case 'succeeded': {
      const ack = appliedAck.safeParse(u.result);
      if (!ack.success) return { outcome: 'failed', code: 'parameters_not_applied', message: 'the terminal did not name the parameter set it applied', transient: false };
      if (sentDigest !== undefined && ack.data.parameters.digest !== sentDigest)
        return { outcome: 'failed', code: 'digest_mismatch', message: `the terminal applied ${ack.data.parameters.digest}, not ${sentDigest}`, transient: false };
      return { outcome: 'succeeded', reported: ack.data.parameters.digest };
    }
    case 'failed':
    case 'rejected': {
      const code = u.error?.code ?? u.state;
      return { outcome: 'failed', code, ...(u.error?.message ? { message: u.error.message } : {}), transient: transientErrors.includes(code) };
    }
    default:
      return { outcome: 'ignore' };
  }
}

const isFinal = (u: CommandUpdate) => finalCommandStates.includes(u.state);

export function createParametersKind(deps: { store: ParameterStore; drift: DriftWatch }): CampaignKind<ParametersKindParams> {
  return {
    name: PARAMETERS_KIND,
    lane: 'parameters',
    params: parametersKindParams,
    // A config.set is one small message, like a key install.
    sendConcurrency: 256,
    async open(params): Promise<OpenCampaign> {
      const template = await deps.store.template(params.templateId).catch((err: unknown) => {
        throw unprocessable('unknown_parameter_template', `parameter template ${params.templateId} does not exist`, undefined, { cause: err });
      });
      // Digests sent per device: an ack must name the one its command carried. After a restart
      // the map is empty and any applied digest is taken (the command itself carried only one).
      const sent = new Map<string, string>();
      const model = 'model' in template.appliesTo ? template.appliesTo.model : null;
      return {
        summary: `${template.name} v${template.version}`,
        screen: (d) => (model !== null && d.model !== model ? 'incompatible' : null),
        async command(d) {
          const facts = (await deps.store.facts([d.deviceId])).get(d.deviceId);
          if (!facts) throw unprocessable('unknown_device', `device ${d.deviceId} does not exist`);
          const desired = desiredFor(template, await deps.store.assignments(template.id), facts);
          const parameters: ParametersPush = { templateId: template.id, version: template.version, digest: desired.digest, fields: template.fields, values: desired.values };
          sent.set(d.deviceId, desired.digest);
          deps.drift.pushSent(d.deviceId);
          return { type: 'config.set', payload: { parameters }, ttlS: params.commandTtlS };
        },
        judge(u, ref) {
          if (isFinal(u)) deps.drift.pushSettled(ref.deviceId);
          return judgeParametersAck(u, sent.get(ref.deviceId));
        },
        isDone: () => null,
      };
    },
  };
}
