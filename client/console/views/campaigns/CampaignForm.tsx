/** @jsxImportSource preact */
// /ui/rollouts/new, /ui/key-rotations/new and /ui/app-deployments/new: a new campaign, previewed before it is made (how
// many terminals the target matches now, and each phase's size as the engine would draw it), then
// created as a draft and opened on its own page. The body is checked with the server's schema first.
import { useState } from 'preact/hooks';
import { api, isRole } from '../../session.ts';
import { ErrorBox, Field, fmtNumber } from '../../ui.tsx';
import type { ViewContext } from '../../viewContract.ts';
import { campaignAnswer, campaignHref, type CreatableKind } from './campaignKinds.ts';
import { createBody, planPhases, targetProblem, type CampaignDraft, type PhasePlan } from './campaignRules.ts';
import { KindFields, initialParams, type KindParams } from './KindFields.tsx';
import { PhasesEditor } from './PhasesEditor.tsx';
import { TargetPicker } from './TargetPicker.tsx';
import { targetCount } from './targetCount.ts';

const initialDraft = (): CampaignDraft => ({
  name: '',
  targetKind: 'group',
  groupId: '',
  filterId: '',
  query: '',
  deviceIds: '',
  phases: [
    { name: 'canary', percent: '10' },
    { name: 'rest', percent: '90' },
  ],
  successThreshold: '95',
  errorThreshold: '5',
  startAt: '',
});

interface Preview {
  /** The body it was made for: a changed form needs a new preview. */
  key: string;
  count: number;
  plan: PhasePlan[];
}

export function CampaignForm({ ctx, kind }: { ctx: ViewContext; kind: CreatableKind }) {
  const [draft, setDraft] = useState<CampaignDraft>(initialDraft);
  const [params, setParams] = useState<KindParams>(() => initialParams(kind));
  const [preview, setPreview] = useState<Preview | null>(null);
  const [problem, setProblem] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const set = (patch: Partial<CampaignDraft>) => setDraft((d) => ({ ...d, ...patch }));

  const body = { ...createBody(draft), ...params };
  const key = JSON.stringify(body);
  const checked = () => {
    const parsed = kind.createBody.safeParse(body);
    const own = kind.params.safeParse(params);
    const issues = [...(parsed.error?.issues ?? []).filter((i) => i.path[0] !== 'target'), ...(own.error?.issues ?? [])];
    const said = [targetProblem(draft), ...issues.map((i) => `${i.path.join('.') || 'form'}: ${i.message}`)].filter((p) => p !== null);
    const problems = [...new Set(said)];
    if (parsed.success && own.success && !problems.length) return true;
    setProblem(new Error(problems.join('; ') || 'the form is not complete'));
    return false;
  };

  const runPreview = async () => {
    setProblem(null);
    if (!checked()) return setPreview(null);
    setBusy(true);
    try {
      const count = await targetCount(body.target);
      setPreview({ key, count, plan: planPhases(count, body.phases) });
      ctx.announce(`The target matches ${count} terminals now.`);
    } catch (err) {
      setProblem(err);
      setPreview(null);
    } finally {
      setBusy(false);
    }
  };

  const create = async () => {
    setProblem(null);
    if (!checked()) return;
    setBusy(true);
    try {
      const made = await api.call(campaignAnswer, 'POST', kind.base, { body });
      ctx.toast(`${made.name}: created as a draft.`, 'success');
      ctx.navigate(campaignHref(kind, made.id));
    } catch (err) {
      setProblem(err);
      setBusy(false);
    }
  };

  if (!isRole('admin', 'operator')) return <p class="muted">Creating a {kind.noun} needs the admin or operator role.</p>;
  const current = preview?.key === key ? preview : null;
  return (
    <form
      class="card form-stack campaign-form"
      aria-label={`New ${kind.noun}`}
      onSubmit={(e) => {
        e.preventDefault();
        void (current ? create() : runPreview());
      }}
    >
      <Field label="Name" id="c-name">
        <input id="c-name" type="text" maxLength={200} value={draft.name} onInput={(e) => set({ name: e.currentTarget.value })} required />
      </Field>
      <KindFields kind={kind} params={params} set={setParams} />
      <TargetPicker draft={draft} set={set} />
      <PhasesEditor draft={draft} set={set} />
      {problem ? <ErrorBox error={problem} /> : null}
      <section class="preview" aria-live="polite" aria-label="Preview">
        {current ? (
          <>
            <p data-target-count={String(current.count)}>
              The target matches <strong>{fmtNumber(current.count)}</strong> terminals now (terminals busy in another campaign when it
              starts are left out).
            </p>
            <ol class="plain-list preview-phases">
              {current.plan.map((p, i) => (
                <li data-phase={String(i)} data-size={String(p.size)}>
                  {`${p.name}: ${fmtNumber(p.size)} terminals (${p.percent}%)`}
                </li>
              ))}
            </ol>
          </>
        ) : (
          <p class="muted small">Preview the target to see how many terminals it reaches and each phase's size.</p>
        )}
      </section>
      <div class="actions">
        <button type="button" class="btn" disabled={busy} onClick={() => void runPreview()}>
          Preview
        </button>
        <button type="button" class="btn btn-primary" disabled={busy || !current} onClick={() => void create()}>
          Create draft
        </button>
        <a class="btn btn-quiet" href="/ui/rollouts">
          Back to the list
        </a>
      </div>
    </form>
  );
}
