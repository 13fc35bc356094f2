/** @jsxImportSource preact */
// Start, pause, resume and cancel, each after the shell's confirmation dialog; only the controls
// the campaign's state allows are shown, and they are disabled for roles that may not use them.
import { useState } from 'preact/hooks';
import { api, isRole } from '../../session.ts';
import type { ViewContext } from '../../viewContract.ts';
import { campaignAnswer, campaignPath, type Campaign, type CampaignKindUi } from './campaignKinds.ts';
import { controlsFor, type ControlVerb } from './campaignRules.ts';

const questions: Record<
  ControlVerb,
  (noun: string, name: string) => { title: string; body: string; confirmLabel: string; danger?: boolean }
> = {
  start: (noun, name) => ({ title: `Start this ${noun}?`, body: `“${name}” starts with its first phase.`, confirmLabel: 'Start' }),
  pause: (noun, name) => ({
    title: `Pause this ${noun}?`,
    body: `“${name}” sends nothing more until it is resumed.`,
    confirmLabel: 'Pause',
  }),
  resume: (noun, name) => ({ title: `Resume this ${noun}?`, body: `“${name}” goes on sending where it stopped.`, confirmLabel: 'Resume' }),
  cancel: (noun, name) => ({
    title: `Cancel this ${noun}?`,
    body: `“${name}”: nothing more is sent, and terminals still working on it are asked to stop. This cannot be undone.`,
    confirmLabel: `Cancel ${noun}`,
    danger: true,
  }),
};

const labels: Record<ControlVerb, [string, string]> = {
  start: ['Start', 'btn-primary'],
  pause: ['Pause', ''],
  resume: ['Resume', 'btn-primary'],
  cancel: ['Cancel', 'btn-danger-outline'],
};

export function CampaignControls(props: { kind: CampaignKindUi; campaign: Campaign; ctx: ViewContext; onChanged(c: Campaign): void }) {
  const { kind, campaign: c, ctx } = props;
  const [busy, setBusy] = useState(false);
  const verbs = controlsFor(c.state);
  if (!verbs.length) return null;
  const mayControl = isRole('admin', 'operator');

  const run = async (verb: ControlVerb) => {
    if (!(await ctx.confirm(questions[verb](kind.noun, c.name)))) return;
    setBusy(true);
    try {
      const after = await api.call(campaignAnswer, 'POST', `${campaignPath(kind, c.id)}/${verb}`);
      ctx.announce(`${kind.noun} ${c.name} is now ${after.state}.`);
      ctx.toast(`${c.name}: ${after.state}.`, 'success');
      props.onChanged(after);
    } catch (err) {
      ctx.toast(`${labels[verb][0]} failed: ${err instanceof Error ? err.message : String(err)}`, 'error');
    } finally {
      setBusy(false);
    }
  };

  return (
    <div class="actions" role="group" aria-label={`Control ${c.name}`}>
      {verbs.map((verb) => (
        <button
          type="button"
          class={`btn btn-small ${labels[verb][1]}`}
          data-action={verb}
          disabled={!mayControl || busy}
          title={mayControl ? undefined : 'Needs the admin or operator role'}
          aria-label={`${labels[verb][0]} ${kind.noun} ${c.name}`}
          onClick={() => void run(verb)}
        >
          {labels[verb][0]}
        </button>
      ))}
    </div>
  );
}
