// Merchants, onboarding reviews and pending re-binding approvals. Approvals are for admins
// (and the server also refuses the requester approving their own request).
import { api, has, isRole, session } from '../api.js';
import { append, errorBox, field, h, replace, section, stateBadge, table, throttle, timeEl, unavailable } from '../dom.js';

const PAGE = 25;
/** The two answers to a pending request: [decision, button label, button style]. */
const DECISIONS = [
  ['approve', 'Approve', 'btn-primary'],
  ['reject', 'Reject', 'btn-danger-outline'],
];

export function mount(root, ctx) {
  const isAdmin = isRole('admin');
  const rebindBox = h('div', { 'aria-live': 'polite' }, h('p', { class: 'loading' }, 'Loading…'));
  const reviewBox = h('div', { 'aria-live': 'polite' }, h('p', { class: 'loading' }, 'Loading…'));
  const listBox = h('div', null);
  const merchantNames = new Map();

  append(root, [
    isAdmin ? null : h('p', { class: 'note' }, 'Approvals need the admin role; you can see what is waiting.'),
    section('Pending re-binding approvals', rebindBox),
    section('Merchants waiting for review', reviewBox),
    section('All merchants', listBox),
  ]);

  if (!has('GET /v1/merchants')) {
    replace(reviewBox, unavailable('Merchant onboarding'));
    replace(listBox, unavailable('Merchants'));
  }
  if (!has('GET /v1/rebind-requests')) replace(rebindBox, unavailable('Re-binding approvals'));

  // Requests name devices by id; show the serial people know (few rows: one lookup each, cached).
  const serials = new Map();
  async function fillSerials(ids) {
    for (const id of new Set(ids)) {
      if (!serials.has(id)) {
        try {
          serials.set(id, (await api('GET', `/v1/devices/${encodeURIComponent(id)}`)).serial);
        } catch {
          serials.set(id, id);
        }
      }
      for (const a of rebindBox.querySelectorAll(`a[data-serial-of="${CSS.escape(id)}"]`)) a.textContent = serials.get(id);
    }
  }

  const nameOf = (id) => (merchantNames.has(id) ? `${merchantNames.get(id)} (${id})` : id);

  async function decide(kind, item, verb) {
    const label = verb === 'approve' ? 'Approve' : 'Reject';
    const noteId = `decision-note-${item.id}`;
    const needsReason = kind === 'merchant' && verb === 'reject';
    const note = h('textarea', { id: noteId, rows: 3, maxlength: 500, required: needsReason });
    const what =
      kind === 'rebind'
        ? verb === 'approve'
          ? `Re-bind terminal ${serials.get(item.deviceId) ?? item.deviceId} from ${nameOf(item.fromMerchantId)} to ${nameOf(item.merchantId)} as TID ${item.tid}. The old binding is closed, merchant data and keys on the terminal are wiped, and a new binding is sent.`
          : `Reject the request to re-bind terminal ${serials.get(item.deviceId) ?? item.deviceId} to ${nameOf(item.merchantId)}. The terminal stays with ${nameOf(item.fromMerchantId)}.`
        : verb === 'approve'
          ? `Approve merchant ${item.name} (MID ${item.mid}). Its terminals can then be bound.`
          : `Reject merchant ${item.name} (MID ${item.mid}).`;
    const ok = await ctx.confirm({
      title: `${label} ${kind === 'rebind' ? 're-binding' : 'merchant'}?`,
      body: h(
        'div',
        { class: 'form-stack' },
        h('p', null, what),
        h('label', { for: noteId }, needsReason ? 'Reason (required)' : 'Note (optional)'),
        note,
      ),
      confirmLabel: label,
      danger: verb === 'approve' && kind === 'rebind',
    });
    if (!ok) return;
    const text = note.value.trim();
    if (needsReason && !text) {
      ctx.toast('A reason is needed to reject a merchant.', 'error');
      return;
    }
    const path =
      kind === 'rebind'
        ? `/v1/rebind-requests/${encodeURIComponent(item.id)}/${verb}`
        : `/v1/merchants/${encodeURIComponent(item.id)}/${verb}`;
    const body = kind === 'merchant' && verb === 'reject' ? { reason: text } : text ? { note: text } : {};
    try {
      await api('POST', path, { body });
      ctx.announce(`${label}d.`);
      ctx.toast(`${label}d.`, 'ok');
      loadRebinds();
      loadReviews();
      loadList();
    } catch (err) {
      ctx.toast(`${label} failed: ${err.message}`, 'error');
    }
  }

  const decisionButtons = (kind, item, mine) => {
    const reason = !isAdmin ? 'needs the admin role' : mine ? 'you filed this yourself; another admin decides' : null;
    return h(
      'div',
      { class: 'row-actions' },
      DECISIONS.map(([decision, label, className]) =>
        h(
          'button',
          {
            type: 'button',
            class: `btn btn-small ${className}`,
            disabled: Boolean(reason),
            title: reason,
            'aria-label': `${label} ${kind === 'rebind' ? `re-binding of ${item.deviceId}` : item.name}`,
            onclick: () => decide(kind, item, decision),
          },
          label,
        ),
      ),
      reason ? h('span', { class: 'muted small' }, reason) : null,
    );
  };

  async function loadRebinds() {
    if (!has('GET /v1/rebind-requests')) return;
    try {
      const page = await api('GET', '/v1/rebind-requests', { query: { status: 'pending', limit: 50 } });
      replace(
        rebindBox,
        table({
          caption: 'Pending re-binding requests',
          head: ['Terminal', 'From', 'To', 'TID', 'Reason', 'Requested', 'Decision'],
          rows: page.items.map((r) =>
            h(
              'tr',
              { dataset: { requestId: r.id } },
              h(
                'td',
                null,
                h(
                  'a',
                  { href: `/ui/devices/${encodeURIComponent(r.deviceId)}`, dataset: { serialOf: r.deviceId } },
                  serials.get(r.deviceId) ?? r.deviceId,
                ),
              ),
              h('td', null, nameOf(r.fromMerchantId)),
              h('td', null, nameOf(r.merchantId)),
              h('td', null, h('code', null, r.tid)),
              h('td', null, r.reason),
              h('td', null, r.requestedByName ?? r.requestedBy, h('div', { class: 'muted small' }, timeEl(r.createdAt))),
              h('td', null, decisionButtons('rebind', r, r.requestedBy === session.me?.id)),
            ),
          ),
          empty: 'No re-binding is waiting for approval.',
        }),
      );
      fillSerials(page.items.map((r) => r.deviceId));
    } catch (err) {
      replace(rebindBox, errorBox(err));
    }
  }

  async function loadReviews() {
    if (!has('GET /v1/merchants')) return;
    try {
      const page = await api('GET', '/v1/merchants', { query: { status: 'pending_review', limit: 50 } });
      for (const m of page.items) merchantNames.set(m.id, m.name);
      replace(
        reviewBox,
        table({
          caption: 'Merchants waiting for review',
          head: ['Merchant', 'MID', 'MCC', 'Address', 'Filed', 'Decision'],
          rows: page.items.map((m) =>
            h(
              'tr',
              { dataset: { merchantId: m.id } },
              h('td', null, m.name, h('div', { class: 'muted small' }, m.kind)),
              h('td', null, h('code', null, m.mid)),
              h('td', null, m.mcc ?? '—'),
              h('td', null, m.address ?? '—'),
              h('td', null, timeEl(m.createdAt)),
              h('td', null, decisionButtons('merchant', m, m.createdBy === session.me?.id)),
            ),
          ),
          empty: 'No merchant is waiting for review.',
        }),
      );
    } catch (err) {
      replace(reviewBox, errorBox(err));
    }
  }

  // All merchants: server-side filter and paging.
  const qInput = h('input', { id: 'mf-q', type: 'search', autocomplete: 'off' });
  const statusSelect = h(
    'select',
    { id: 'mf-status' },
    [
      ['', 'Any'],
      ['active', 'Active'],
      ['pending_review', 'Pending review'],
      ['suspended', 'Suspended'],
      ['rejected', 'Rejected'],
    ].map(([v, t]) => h('option', { value: v }, t)),
  );
  const filterForm = h(
    'form',
    { class: 'filters', role: 'search', 'aria-label': 'Filter merchants' },
    field('Search', qInput),
    field('Status', statusSelect),
    h('div', { class: 'field field-actions' }, h('button', { type: 'submit', class: 'btn btn-primary' }, 'Apply')),
  );
  const listResults = h('div', { 'aria-live': 'polite' });
  const listPager = h('nav', { class: 'pager', 'aria-label': 'Pages of merchants' });
  const cursors = [null];
  let pageIndex = 0;

  async function loadList() {
    if (!has('GET /v1/merchants')) return;
    if (!listBox.contains(filterForm)) replace(listBox, filterForm, listResults, listPager);
    try {
      const page = await api('GET', '/v1/merchants', {
        query: { q: qInput.value.trim(), status: statusSelect.value, limit: PAGE, cursor: cursors[pageIndex] ?? undefined },
      });
      for (const m of page.items) merchantNames.set(m.id, m.name);
      replace(
        listResults,
        table({
          caption: 'Merchants',
          head: ['Merchant', 'MID', 'Kind', 'Status', 'Radius', 'Time zone', 'Since'],
          rows: page.items.map((m) =>
            h(
              'tr',
              null,
              h('td', null, m.name, h('div', { class: 'muted small' }, h('code', null, m.id))),
              h('td', null, h('code', null, m.mid)),
              h('td', null, m.kind),
              h('td', null, stateBadge(m.status)),
              h('td', null, m.radiusM ? `${m.radiusM} m` : '—'),
              h('td', null, m.timezone ?? '—'),
              h('td', null, timeEl(m.createdAt)),
            ),
          ),
          empty: 'No merchant matches.',
        }),
      );
      cursors[pageIndex + 1] = page.nextCursor;
      replace(
        listPager,
        h(
          'button',
          { type: 'button', class: 'btn', disabled: pageIndex === 0, onclick: () => ((pageIndex -= 1), loadList()) },
          '← Previous',
        ),
        h('span', { class: 'muted' }, `Page ${pageIndex + 1}`),
        h('button', { type: 'button', class: 'btn', disabled: !page.nextCursor, onclick: () => ((pageIndex += 1), loadList()) }, 'Next →'),
      );
    } catch (err) {
      replace(listResults, errorBox(err));
    }
  }

  filterForm.addEventListener('submit', (e) => {
    e.preventDefault();
    cursors.length = 1;
    pageIndex = 0;
    loadList();
  });

  loadReviews().then(loadRebinds);
  loadList();
  const refresh = throttle(() => {
    loadRebinds();
    loadReviews();
  }, 1000);

  return {
    onEvent(name) {
      if (name === 'device.binding' || name === 'stream.resumed') refresh();
    },
  };
}
