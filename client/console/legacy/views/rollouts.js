// Firmware rollouts and key rotations (both are campaigns): per-phase progress, live, with
// start / pause / resume / cancel.
import { api, has, isRole } from '../api.js';
import { errorBox, fmtNumber, h, replace, stateBadge, throttle, timeEl, unavailable } from '../dom.js';

const KINDS = [
  { base: '/v1/rollouts', title: 'Firmware rollouts', noun: 'rollout', kind: 'firmware' },
  { base: '/v1/key-rotations', title: 'Key rotations', noun: 'key rotation', kind: 'keys' },
];

const IN_FLIGHT = ['sent', 'downloading', 'installing', 'rebooting'];
const ERRORS = ['failed', 'rolled_back', 'timed_out'];

function groups(counts = {}) {
  const sum = (keys) => keys.reduce((a, k) => a + (counts[k] ?? 0), 0);
  return {
    succeeded: counts.succeeded ?? 0,
    errors: sum(ERRORS),
    inFlight: sum(IN_FLIGHT),
    pending: counts.pending ?? 0,
    other: sum(['skipped', 'cancelled']),
  };
}

function progressBar(g, total) {
  const bar = h('div', { class: 'stack', 'aria-hidden': 'true' });
  for (const [k, cls] of [
    ['succeeded', 'seg-ok'],
    ['errors', 'seg-bad'],
    ['inFlight', 'seg-busy'],
    ['other', 'seg-muted'],
  ]) {
    if (!g[k]) continue;
    const seg = h('span', { class: `seg ${cls}` });
    seg.style.width = `${(g[k] / Math.max(1, total)) * 100}%`;
    bar.append(seg);
  }
  return bar;
}

function phaseRow(p) {
  const g = groups(p.counts);
  const total = p.total ?? p.devices ?? 0;
  const pct = total ? Math.round((g.succeeded / total) * 100) : 0;
  const text = `${fmtNumber(g.succeeded)} of ${fmtNumber(total)} succeeded (${pct}%), ${fmtNumber(g.inFlight)} in progress, ${fmtNumber(g.errors)} failed, ${fmtNumber(g.pending)} waiting${g.other ? `, ${fmtNumber(g.other)} skipped or cancelled` : ''}`;
  return h(
    'li',
    {
      class: `phase ${p.started ? 'phase-started' : 'phase-waiting'}`,
      dataset: { phase: String(p.index), succeeded: String(g.succeeded), total: String(total) },
    },
    h(
      'div',
      { class: 'phase-head' },
      h('strong', null, p.name),
      h(
        'span',
        { class: 'muted small' },
        ` ${p.percent}% of the fleet · `,
        p.started ? (p.passed ? 'passed' : 'running') : 'not started',
        p.overErrorThreshold ? ' · over the error threshold' : '',
      ),
    ),
    progressBar(g, total),
    h('p', { class: 'small phase-text' }, text),
  );
}

export function mount(root, ctx) {
  const canControl = isRole('admin', 'operator');
  const sections = [];
  let stopped = false;

  for (const k of KINDS) {
    const box = h('div', { class: 'campaigns', 'aria-live': 'polite' }, h('p', { class: 'loading' }, 'Loading…'));
    const headingId = `h-${k.kind}`;
    root.append(h('section', { class: 'card', 'aria-labelledby': headingId }, h('h2', { id: headingId }, k.title), box));
    sections.push({ ...k, box, cards: new Map(), available: has(`GET ${k.base}`) });
  }

  async function loadKind(sec) {
    if (!sec.available) {
      replace(sec.box, unavailable(sec.title));
      return;
    }
    try {
      const page = await api('GET', sec.base, { query: { limit: 20 } });
      if (stopped) return;
      sec.cards.clear();
      const list = h('ul', { class: 'plain-list campaign-list' });
      for (const c of page.items) {
        const li = h('li', { class: 'campaign', dataset: { campaignId: c.id, state: c.state } });
        sec.cards.set(c.id, li);
        renderCampaign(sec, li, c);
        list.append(li);
      }
      replace(
        sec.box,
        page.items.length ? list : h('p', { class: 'muted' }, `No ${sec.noun} yet. Create one through the API (POST ${sec.base}).`),
      );
    } catch (err) {
      replace(sec.box, errorBox(err));
    }
  }

  async function control(sec, c, verb) {
    if (verb === 'cancel') {
      const ok = await ctx.confirm({
        title: `Cancel this ${sec.noun}?`,
        body: `“${c.name}”: nothing more is sent, and terminals still working on it are asked to stop. This cannot be undone.`,
        confirmLabel: `Cancel ${sec.noun}`,
        danger: true,
      });
      if (!ok) return;
    }
    if (verb === 'start') {
      const ok = await ctx.confirm({
        title: `Start this ${sec.noun}?`,
        body: `“${c.name}” starts with its first phase.`,
        confirmLabel: 'Start',
      });
      if (!ok) return;
    }
    try {
      const after = await api('POST', `${sec.base}/${encodeURIComponent(c.id)}/${verb}`);
      ctx.announce(`${sec.noun} ${c.name} is now ${after.state}.`);
      ctx.toast(`${c.name}: ${after.state}.`, 'ok');
      const li = sec.cards.get(c.id);
      if (li) renderCampaign(sec, li, after);
    } catch (err) {
      ctx.toast(`${verb} failed: ${err.message}`, 'error');
    }
  }

  function renderCampaign(sec, li, c) {
    li.dataset.state = c.state;
    const totals = groups(c.counts);
    const total = (c.phases ?? []).reduce((a, p) => a + (p.total ?? p.devices ?? 0), 0);
    const btn = (verb, label, cls = '') =>
      h(
        'button',
        {
          type: 'button',
          class: `btn btn-small ${cls}`,
          disabled: !canControl,
          'aria-label': `${label} ${sec.noun} ${c.name}`,
          onclick: () => control(sec, c, verb),
        },
        label,
      );
    const finished = ['succeeded', 'failed', 'cancelled'].includes(c.state);
    replace(
      li,
      h(
        'div',
        { class: 'campaign-head' },
        h('h3', null, c.name),
        stateBadge(c.state),
        c.rollingBack ? h('span', { class: 'badge state-failed' }, 'rolling back') : null,
        h('span', { class: 'muted small' }, c.summary ? ` ${c.summary} · ` : ' ', 'created ', timeEl(c.createdAt)),
      ),
      c.pausedReason ? h('p', { class: 'warn small' }, `Paused: ${String(c.pausedReason).replace(/_/g, ' ')}`) : null,
      h(
        'p',
        { class: 'small campaign-totals' },
        `${fmtNumber(totals.succeeded)} of ${fmtNumber(total)} terminals done · ${fmtNumber(totals.inFlight)} in progress · ${fmtNumber(totals.errors)} failed · ${fmtNumber(totals.pending)} waiting`,
      ),
      h('ol', { class: 'phases', 'aria-label': `Phases of ${c.name}` }, (c.phases ?? []).map(phaseRow)),
      finished
        ? null
        : h(
            'div',
            { class: 'actions', role: 'group', 'aria-label': `Control ${c.name}` },
            c.state === 'draft' ? btn('start', 'Start', 'btn-primary') : null,
            c.state === 'running' ? btn('pause', 'Pause') : null,
            c.state === 'paused' ? btn('resume', 'Resume', 'btn-primary') : null,
            btn('cancel', 'Cancel', 'btn-danger-outline'),
          ),
    );
  }

  const refreshers = new Map();
  function refreshCampaign(sec, id) {
    const key = `${sec.kind}:${id}`;
    let fn = refreshers.get(key);
    if (!fn) {
      fn = throttle(async () => {
        const li = sec.cards.get(id);
        if (!li) return loadKind(sec);
        try {
          const c = await api('GET', `${sec.base}/${encodeURIComponent(id)}`);
          if (!stopped) renderCampaign(sec, li, c);
        } catch {
          /* the next event or reload will try again */
        }
      }, 1000);
      refreshers.set(key, fn);
    }
    fn();
  }

  for (const sec of sections) loadKind(sec);

  return {
    onEvent(name, data) {
      if (name === 'stream.resumed') return sections.forEach(loadKind);
      if (name !== 'campaign.updated' && name !== 'campaign.device') return;
      const id = name === 'campaign.updated' ? data.id : data.campaignId;
      const sec = sections.find((s) => s.kind === data.kind) ?? sections.find((s) => s.cards.has(id));
      if (sec && sec.available) refreshCampaign(sec, id);
    },
    unmount() {
      stopped = true;
    },
  };
}
