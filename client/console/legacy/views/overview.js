// Fleet overview: online/offline, faults by severity and code, firmware versions, relocated
// terminals. Only summary endpoints are read, so it costs the same with 10 or 10,000 terminals.
import { api, has } from '../api.js';
import {
  errorBox,
  fmtNumber,
  h,
  replace,
  section,
  SEVERITIES,
  severityBadge,
  stateBadge,
  table,
  throttle,
  timeEl,
  unavailable,
} from '../dom.js';

function stat(label, value, opts = {}) {
  const v = h('span', { class: 'stat-value', dataset: { stat: opts.key ?? label } }, fmtNumber(value));
  const inner = [v, h('span', { class: 'stat-label' }, label)];
  return h('div', { class: `stat ${opts.className ?? ''}` }, opts.href ? h('a', { href: opts.href, class: 'stat-link' }, inner) : inner);
}

/** Horizontal bars: rows of [label node, count, href?, className?]. */
function bars(caption, rows, total, opts = {}) {
  const max = opts.max ?? Math.max(1, ...rows.map((r) => r[1]));
  return h(
    'ul',
    { class: 'bars', 'aria-label': caption },
    rows.map(([label, n, href, cls]) => {
      const fill = h('span', { class: `bar-fill ${cls ?? ''}` });
      fill.style.width = `${Math.max(n ? 2 : 0, (n / max) * 100)}%`;
      const pct = total ? ` (${Math.round((n / total) * 100)}%)` : '';
      return h(
        'li',
        { class: 'bar-row' },
        h('span', { class: 'bar-label', title: typeof label === 'string' ? label : null }, href ? h('a', { href }, label) : label),
        h('span', { class: 'bar-track', 'aria-hidden': 'true' }, fill),
        h('span', { class: 'bar-count' }, `${fmtNumber(n)}${opts.suffix ?? ''}`, h('span', { class: 'visually-hidden' }, pct)),
      );
    }),
  );
}

export function mount(root, ctx) {
  const cards = h('div', { class: 'stats', 'aria-live': 'polite', 'aria-atomic': 'false' });
  const faultsBox = h('div', null, h('p', { class: 'loading' }, 'Loading…'));
  const codesBox = h('div', null);
  const fwBox = h('div', null, h('p', { class: 'loading' }, 'Loading…'));
  const modelBox = h('div', null);
  const relocatedBox = h('div', null, h('p', { class: 'loading' }, 'Loading…'));
  const campaignsBox = h('div', null, h('p', { class: 'loading' }, 'Loading…'));
  const updated = h('p', { class: 'muted small' });

  root.append(
    h('p', { class: 'lede' }, 'Which terminals need a visit, and why. Counts update live.'),
    cards,
    h(
      'div',
      { class: 'grid-2' },
      section('Faults by severity', faultsBox),
      section('Open faults by kind', codesBox),
      section('Relocated terminals', relocatedBox),
      section('Firmware versions', fwBox),
      section('Models', modelBox),
      section('Rollouts and key rotations in progress', campaignsBox),
    ),
    updated,
  );

  const faultsAvailable = has('GET /v1/faults');
  const summaryRoute = has('GET /v1/faults/summary') ? '/v1/faults/summary' : null;
  let stopped = false;

  async function loadFleet() {
    try {
      const s = await api('GET', '/v1/fleet/summary');
      if (stopped) return;
      const enrolled = s.byStatus?.enrolled ?? 0;
      replace(
        cards,
        stat('Terminals', s.devices, { key: 'devices', href: '/ui/devices' }),
        stat('Online', s.online, { key: 'online', className: 'stat-ok', href: '/ui/devices?online=true' }),
        stat('Offline', s.offline, { key: 'offline', className: s.offline ? 'stat-warn' : '', href: '/ui/devices?online=false' }),
        stat('Not yet enrolled', s.byStatus?.registered ?? 0, { key: 'registered', href: '/ui/devices?status=registered' }),
        faultStats.open,
        faultStats.affected,
        approvals,
      );
      const fw = Object.entries(s.byFirmware ?? {}).sort((a, b) => b[1] - a[1]);
      replace(
        fwBox,
        fw.length
          ? bars(
              'Enrolled terminals per firmware version',
              fw.slice(0, 12).map(([v, n]) => [v, n, `/ui/devices?fwVersion=${encodeURIComponent(v)}`]),
              enrolled,
            )
          : h('p', { class: 'muted' }, 'No enrolled terminals yet.'),
        fw.length > 12 ? h('p', { class: 'muted small' }, `${fw.length - 12} more versions not shown.`) : null,
      );
      const models = Object.entries(s.byModel ?? {}).sort((a, b) => b[1] - a[1]);
      replace(
        modelBox,
        models.length
          ? bars(
              'Terminals per model',
              models.slice(0, 12).map(([m, n]) => [m, n, `/ui/devices?model=${encodeURIComponent(m)}`]),
              s.devices,
            )
          : h('p', { class: 'muted' }, 'No terminals yet.'),
      );
      updated.textContent = `Updated ${new Date().toLocaleTimeString()}`;
    } catch (err) {
      replace(cards, errorBox(err));
    }
  }

  const faultStats = {
    open: stat('Open faults', null, { key: 'faults' }),
    affected: stat('Terminals with faults', null, { key: 'affected' }),
  };

  async function loadFaults() {
    if (!faultsAvailable) {
      replace(faultsBox, unavailable('Faults'));
      replace(codesBox, unavailable('Faults'));
      faultStats.open = h('span');
      faultStats.affected = h('span');
      return;
    }
    try {
      const sum = summaryRoute ? await api('GET', summaryRoute) : null;
      if (stopped) return;
      if (sum) {
        const bySev = sum.bySeverity ?? {};
        const total = sum.total ?? SEVERITIES.reduce((a, s) => a + (bySev[s] ?? 0), 0);
        const o = stat('Open faults', total, { key: 'faults', className: total ? 'stat-bad' : 'stat-ok', href: '/ui/faults' });
        const a = stat('Terminals with faults', sum.devicesAffected ?? 0, { key: 'affected', href: '/ui/faults' });
        faultStats.open.replaceWith(o);
        faultStats.affected.replaceWith(a);
        faultStats.open = o;
        faultStats.affected = a;
        replace(
          faultsBox,
          bars(
            'Unresolved faults per severity',
            SEVERITIES.map((s) => [severityBadge(s), bySev[s] ?? 0, `/ui/faults?severity=${s}`, `sev-bg-${s}`]),
            total,
          ),
        );
        const codes = Object.entries(sum.byCode ?? {}).sort((x, y) => (y[1].total ?? y[1]) - (x[1].total ?? x[1]));
        replace(
          codesBox,
          codes.length
            ? bars(
                'Unresolved faults per kind',
                codes
                  .slice(0, 10)
                  .map(([code, c]) => [
                    code.replace(/_/g, ' '),
                    c.total ?? c,
                    `/ui/faults?code=${encodeURIComponent(code)}`,
                    c.severity ? `sev-bg-${c.severity}` : '',
                  ]),
                total,
              )
            : h('p', { class: 'muted' }, 'No open faults. All clear.'),
        );
      }
    } catch (err) {
      replace(faultsBox, errorBox(err));
    }
  }

  async function loadRelocated() {
    if (!faultsAvailable) {
      replace(relocatedBox, unavailable('Relocation faults'));
      return;
    }
    try {
      const page = await api('GET', '/v1/faults', { query: { code: 'relocated', state: 'open,acknowledged', limit: 20 } });
      if (stopped) return;
      const rows = page.items.map((f) =>
        h(
          'tr',
          null,
          h(
            'td',
            null,
            h('a', { href: `/ui/devices/${encodeURIComponent(f.deviceId)}` }, f.serial ?? f.deviceId),
            h('div', { class: 'muted small' }, f.model ?? ''),
          ),
          h('td', null, f.detail ?? f.title),
          h('td', null, timeEl(f.openedAt)),
        ),
      );
      replace(
        relocatedBox,
        table({
          caption: 'Terminals outside their merchant location',
          head: ['Terminal', 'Why', 'Since'],
          rows,
          empty: 'No terminal is outside its merchant location.',
        }),
        page.nextCursor ? h('p', null, h('a', { href: '/ui/faults?code=relocated' }, 'All relocated terminals')) : null,
      );
    } catch (err) {
      replace(relocatedBox, errorBox(err));
    }
  }

  // Re-bindings waiting for an admin: a number on the overview, the decisions on the merchants page.
  let approvals = h('span');
  async function loadApprovals() {
    if (!has('GET /v1/rebind-requests')) return;
    try {
      const page = await api('GET', '/v1/rebind-requests', { query: { status: 'pending', limit: 100 } });
      if (stopped) return;
      const n = page.items.length;
      const next = stat(page.nextCursor ? 'Re-bindings to approve (100+)' : 'Re-bindings to approve', n, {
        key: 'approvals',
        className: n ? 'stat-warn' : '',
        href: '/ui/merchants',
      });
      approvals.replaceWith(next);
      approvals = next;
    } catch {
      /* the merchants page shows the error */
    }
  }

  const RUNNING = ['running', 'paused'];
  async function loadCampaigns() {
    const kinds = [
      ['GET /v1/rollouts', '/v1/rollouts', 'Firmware'],
      ['GET /v1/key-rotations', '/v1/key-rotations', 'Keys'],
    ].filter(([route]) => has(route));
    if (!kinds.length) {
      replace(campaignsBox, unavailable('Rollouts and key rotations'));
      return;
    }
    try {
      const pages = await Promise.all(kinds.map(([, path]) => api('GET', path, { query: { limit: 50 } })));
      if (stopped) return;
      const active = pages.flatMap((p, i) => p.items.filter((c) => RUNNING.includes(c.state)).map((c) => ({ ...c, label: kinds[i][2] })));
      const items = active.map((c) => {
        const total = (c.phases ?? []).reduce((a, p) => a + (p.total ?? p.devices ?? 0), 0);
        const done = c.counts?.succeeded ?? 0;
        const pct = total ? Math.round((done / total) * 100) : 0;
        const fill = h('span', { class: `bar-fill ${c.state === 'paused' ? 'sev-bg-warning' : ''}` });
        fill.style.width = `${pct}%`;
        return h(
          'li',
          { class: 'campaign-mini', dataset: { campaignId: c.id } },
          h('div', null, h('a', { href: '/ui/rollouts' }, `${c.label}: ${c.name}`), ' ', stateBadge(c.state)),
          h('span', { class: 'bar-track', 'aria-hidden': 'true' }, fill),
          h('span', { class: 'small muted' }, `${fmtNumber(done)} of ${fmtNumber(total)} terminals done (${pct}%)`),
        );
      });
      replace(
        campaignsBox,
        items.length
          ? h('ul', { class: 'plain-list', 'aria-label': 'Campaigns in progress' }, items)
          : h('p', { class: 'muted' }, 'Nothing in progress. ', h('a', { href: '/ui/rollouts' }, 'All rollouts and key rotations')),
      );
    } catch (err) {
      replace(campaignsBox, errorBox(err));
    }
  }

  loadFleet();
  loadFaults().then(() => loadFleet());
  loadRelocated();
  loadApprovals();
  loadCampaigns();
  const refreshCampaigns = throttle(loadCampaigns, 2000);
  const refreshApprovals = throttle(loadApprovals, 1500);
  const refreshFleet = throttle(loadFleet, 1500);
  const refreshFaults = throttle(() => {
    loadFaults();
    loadRelocated();
  }, 1500);

  return {
    onEvent(name) {
      if (name.startsWith('device.presence') || name === 'device.enrolled' || name === 'device.registered' || name === 'device.revoked')
        refreshFleet();
      if (name.startsWith('fault.')) refreshFaults();
      if (name === 'campaign.updated' || name === 'campaign.device') refreshCampaigns();
      if (name === 'device.binding') refreshApprovals();
      if (name === 'stream.resumed') {
        refreshFleet();
        refreshFaults();
      }
    },
    unmount() {
      stopped = true;
    },
  };
}
