// Device list: server-side filters and cursor paging (50 a page), so 10,000 terminals cost
// one page. Presence badges update live for the rows on screen.
import { api } from '../api.js';
import { errorBox, filterForm, h, onlineBadge, queryInput, replace, stateBadge, table, timeEl } from '../dom.js';

const PAGE = 50;

export function mount(root, ctx) {
  const q = ctx.query;
  const inputs = {
    q: h('input', {
      id: 'f-q',
      name: 'q',
      type: 'search',
      value: q.get('q') ?? '',
      placeholder: 'serial, id or model',
      autocomplete: 'off',
    }),
    online: h(
      'select',
      { id: 'f-online', name: 'online' },
      [
        ['', 'Any'],
        ['true', 'Online'],
        ['false', 'Offline'],
      ].map(([v, t]) => h('option', { value: v, selected: q.get('online') === v }, t)),
    ),
    status: h(
      'select',
      { id: 'f-status', name: 'status' },
      [
        ['', 'Any'],
        ['enrolled', 'Enrolled'],
        ['registered', 'Registered'],
        ['revoked', 'Revoked'],
      ].map(([v, t]) => h('option', { value: v, selected: q.get('status') === v }, t)),
    ),
    model: queryInput(q, 'f-model', 'model'),
    fwVersion: queryInput(q, 'f-fw', 'fwVersion'),
    merchantId: queryInput(q, 'f-merchant', 'merchantId'),
  };
  const form = filterForm('Filter devices', inputs);
  const results = h('div', { 'aria-live': 'polite', 'aria-busy': 'true' });
  const pager = h('nav', { class: 'pager', 'aria-label': 'Pages of devices' });
  root.append(form, results, pager);

  const cursors = [null]; // cursor of each page shown so far
  let pageIndex = 0;
  const rowsById = new Map();

  function filters() {
    const f = {};
    for (const [k, el] of Object.entries(inputs)) if (el.value.trim()) f[k] = el.value.trim();
    return f;
  }

  async function load() {
    results.setAttribute('aria-busy', 'true');
    try {
      const page = await api('GET', '/v1/devices', { query: { ...filters(), limit: PAGE, cursor: cursors[pageIndex] ?? undefined } });
      rowsById.clear();
      const rows = page.items.map((d) => {
        const badge = onlineBadge(d.online, Boolean(d.lastSeenAt));
        const tr = h(
          'tr',
          { dataset: { deviceId: d.id } },
          h('td', null, h('a', { href: `/ui/devices/${encodeURIComponent(d.id)}` }, d.serial)),
          h('td', null, d.model),
          h('td', null, stateBadge(d.status)),
          h('td', null, badge),
          h('td', null, d.reportedFwVersion ?? d.fwVersion ?? '—'),
          h('td', null, d.merchantId ?? '—'),
          h('td', null, d.health?.battery ? `${Math.round(d.health.battery.level)}%${d.health.battery.charging ? ' ⚡' : ''}` : '—'),
          h('td', null, timeEl(d.lastSeenAt)),
        );
        rowsById.set(d.id, { tr, badge });
        return tr;
      });
      replace(
        results,
        table({
          caption: 'Devices',
          head: ['Serial', 'Model', 'Status', 'Presence', 'Firmware', 'Merchant', 'Battery', 'Last seen'],
          rows,
          empty: 'No device matches these filters.',
          className: 'devices-table',
        }),
      );
      if (cursors.length <= pageIndex + 1) cursors.push(page.nextCursor);
      else cursors[pageIndex + 1] = page.nextCursor;
      replace(
        pager,
        h('button', { type: 'button', class: 'btn', disabled: pageIndex === 0, onclick: () => go(pageIndex - 1) }, '← Previous'),
        h('span', { class: 'muted' }, `Page ${pageIndex + 1}`),
        h('button', { type: 'button', class: 'btn', disabled: !page.nextCursor, onclick: () => go(pageIndex + 1) }, 'Next →'),
      );
    } catch (err) {
      replace(results, errorBox(err));
    } finally {
      results.setAttribute('aria-busy', 'false');
    }
  }

  function go(i) {
    pageIndex = i;
    load();
  }

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const params = new URLSearchParams(filters());
    history.replaceState(null, '', `/ui/devices${params.size ? `?${params}` : ''}`);
    cursors.length = 1;
    pageIndex = 0;
    load();
  });
  form.addEventListener('reset', () =>
    setTimeout(() => {
      history.replaceState(null, '', '/ui/devices');
      cursors.length = 1;
      pageIndex = 0;
      load();
    }),
  );

  load();

  return {
    onEvent(name, data) {
      if (name === 'device.presence') {
        const row = rowsById.get(data.deviceId);
        if (row) {
          const next = onlineBadge(data.online);
          row.badge.replaceWith(next);
          row.badge = next;
        }
      }
      if (name === 'stream.resumed') load();
    },
  };
}
