// Fault queue for technicians: filtered, sorted and paged on the server (worst first, then
// oldest, or another order), acknowledge / assign / resolve / notes in place, new faults arriving live.
import { api, has, isRole, queryEnumOf, session } from '../api.js';
import {
  errorBox,
  filterForm,
  h,
  queryInput,
  replace,
  SEVERITIES,
  severityBadge,
  stateBadge,
  throttle,
  timeEl,
  unavailable,
} from '../dom.js';

const PAGE = 50;
const STATES = [
  ['', 'Unresolved'],
  ['open', 'Open'],
  ['acknowledged', 'Acknowledged'],
  ['resolved', 'Resolved'],
  ['all', 'All'],
];

// Orders of GET /v1/faults (`sort`): the server sorts, so every page follows the same order.
const SORTS = [
  ['severity', 'Worst first, then oldest'],
  ['oldest', 'Oldest first'],
  ['newest', 'Newest first'],
  ['updated', 'Recently changed'],
];
const DEFAULT_SORT = 'severity';

const opt = (value, text, current) => h('option', { value, selected: current === value }, text);

// The fault row's one-field forms: their look, and what a failure toast calls them.
const NOTE_FORM = { className: 'note-form', label: 'Add a note', button: 'Add note', primary: true, what: 'Note' };
const ASSIGN_FORM = { className: 'assign-form', label: 'Assign to', button: 'Assign', primary: false, what: 'Assign' };

/** A form of one labelled control and its button. An empty value puts the focus back on the
 *  control instead of submitting; a failed `submit` is toasted as "<what> failed: …". */
function oneFieldForm(ctx, look, control, disabled, submit) {
  const form = h(
    'form',
    { class: look.className },
    h('label', { for: control.id }, look.label),
    control,
    h('button', { type: 'submit', class: look.primary ? 'btn btn-small btn-primary' : 'btn btn-small', disabled }, look.button),
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const value = control.value.trim();
    if (!value) return control.focus();
    try {
      await submit(value);
    } catch (err) {
      ctx.toast(`${look.what} failed: ${err.message}`, 'error');
    }
  });
  return form;
}

export function mount(root, ctx) {
  if (!has('GET /v1/faults')) {
    root.append(unavailable('The fault queue'));
    return {};
  }
  const q = ctx.query;
  const canTriage = isRole('admin', 'operator', 'technician');
  const inputs = {
    state: h(
      'select',
      { id: 'ff-state', name: 'state' },
      STATES.map(([v, t]) => opt(v, t, q.get('state') ?? '')),
    ),
    severity: h(
      'select',
      { id: 'ff-severity', name: 'severity' },
      opt('', 'Any', q.get('severity') ?? ''),
      SEVERITIES.map((s) => opt(s, s, q.get('severity') ?? '')),
    ),
    code: h(
      'select',
      { id: 'ff-code', name: 'code' },
      opt('', 'Any', q.get('code') ?? ''),
      q.get('code') ? opt(q.get('code'), q.get('code'), q.get('code')) : null,
    ),
    assignee: h(
      'select',
      { id: 'ff-assignee', name: 'assignee' },
      opt('', 'Anyone', q.get('assignee') ?? ''),
      opt('me', 'Me', q.get('assignee') ?? ''),
      opt('none', 'Unassigned', q.get('assignee') ?? ''),
    ),
    deviceId: queryInput(q, 'ff-device', 'deviceId'),
    model: queryInput(q, 'ff-model', 'model'),
    merchantId: queryInput(q, 'ff-merchant', 'merchantId'),
  };
  // Only the orders this build's API offers (read from its API document).
  const offered = new Set(queryEnumOf('GET /v1/faults', 'sort'));
  const sorts = SORTS.filter(([k]) => offered.has(k));
  const current = sorts.some(([k]) => k === q.get('sort')) ? q.get('sort') : DEFAULT_SORT;
  const sortSelect = sorts.length
    ? h(
        'select',
        { id: 'ff-sort', name: 'sort', 'aria-describedby': 'ff-sort-hint' },
        sorts.map(([k, label]) => opt(k, label, current)),
      )
    : null;
  const sortKey = () => sortSelect?.value || DEFAULT_SORT;

  const form = filterForm(
    'Filter faults',
    inputs,
    sortSelect
      ? h(
          'div',
          { class: 'field' },
          h('label', { for: sortSelect.id }, 'Sort by'),
          sortSelect,
          h('span', { class: 'hint', id: 'ff-sort-hint' }, 'Applies at once'),
        )
      : null,
  );
  const countLine = h('p', { class: 'muted', 'aria-live': 'polite' });
  const tbody = h('tbody');
  const tableEl = h(
    'table',
    { class: 'table faults-table' },
    h('caption', { class: 'visually-hidden' }, 'Fault queue'),
    h(
      'thead',
      null,
      h(
        'tr',
        null,
        ['Severity', 'Fault', 'Terminal', 'State', 'Opened', 'Assignee', 'Actions'].map((c) => h('th', { scope: 'col' }, c)),
      ),
    ),
    tbody,
  );
  const more = h('div', { class: 'pager' });
  root.append(
    form,
    countLine,
    h('div', { class: 'table-wrap', role: 'region', 'aria-label': 'Fault queue', tabindex: '0' }, tableEl),
    more,
  );

  // Rule titles for the Kind filter.
  if (has('GET /v1/fault-rules')) {
    api('GET', '/v1/fault-rules')
      .then((r) => {
        const current = inputs.code.value;
        replace(
          inputs.code,
          opt('', 'Any', current),
          r.rules.map((rule) => opt(rule.code, rule.title, current)),
        );
      })
      .catch(() => {});
  }

  // People to assign to (the user list is for admins; others can take a fault themselves).
  let people = [];
  if (isRole('admin') && has('GET /v1/users')) {
    api('GET', '/v1/users', { query: { limit: 200 } })
      .then((r) => (people = r.items.filter((u) => !u.disabled)))
      .catch(() => {});
  }

  let items = [];
  let cursor = null;
  const expanded = new Set();
  const details = new Map(); // fault id → detail row (kept so typing survives live reloads)
  const fresh = new Set();

  function filters() {
    const f = {};
    for (const [k, el] of Object.entries(inputs)) if (el.value.trim()) f[k] = el.value.trim();
    return f;
  }

  let loads = 0;
  async function load({ append = false } = {}) {
    const seq = ++loads;
    tableEl.setAttribute('aria-busy', 'true');
    try {
      const sort = sortSelect ? sortKey() : undefined;
      const page = await api('GET', '/v1/faults', { query: { ...filters(), sort, limit: PAGE, cursor: append ? cursor : undefined } });
      // A newer request (another sort or filter) answered meanwhile: this page is stale.
      if (seq !== loads) return;
      items = append ? items.concat(page.items) : page.items;
      cursor = page.nextCursor;
      render();
    } catch (err) {
      replace(tbody, h('tr', null, h('td', { colspan: 7 }, errorBox(err))));
    } finally {
      tableEl.setAttribute('aria-busy', 'false');
    }
  }

  function render() {
    const focusKey = document.activeElement?.dataset?.focusKey;
    tableEl.dataset.sort = sortSelect ? sortKey() : DEFAULT_SORT;
    replace(tbody);
    if (!items.length) tbody.append(h('tr', null, h('td', { colspan: 7, class: 'empty' }, 'No fault matches these filters. All clear.')));
    for (const f of items) {
      tbody.append(row(f));
      if (expanded.has(f.id)) tbody.append(detailRow(f));
    }
    const sortLabel = sorts.find(([k]) => k === sortKey())?.[1] ?? SORTS[0][1];
    countLine.textContent = `${items.length}${cursor ? '+' : ''} fault${items.length === 1 ? '' : 's'} shown, ${sortLabel.toLowerCase()}.`;
    replace(more, cursor ? h('button', { type: 'button', class: 'btn', onclick: () => load({ append: true }) }, 'Load more faults') : null);
    if (focusKey) tbody.querySelector(`[data-focus-key="${CSS.escape(focusKey)}"]`)?.focus();
  }

  function row(f) {
    const key = (a) => `${f.id}:${a}`;
    const resolved = f.state === 'resolved';
    const isOpen = expanded.has(f.id);
    // The focus key survives a re-render of the row, so the keyboard stays on the same button.
    const triageButton = (focus, action, label, run) =>
      h(
        'button',
        {
          type: 'button',
          class: 'btn btn-small',
          dataset: { focusKey: key(focus), action },
          'aria-label': `${label} ${f.title} on ${f.serial ?? f.deviceId}`,
          onclick: () => run(f),
        },
        label,
      );
    return h(
      'tr',
      {
        class: `fault-row sev-row-${f.severity} ${fresh.has(f.id) ? 'is-new' : ''}`,
        dataset: { faultId: f.id, code: f.code, state: f.state },
      },
      h('td', null, severityBadge(f.severity)),
      h(
        'td',
        null,
        h('strong', null, f.title),
        h('div', { class: 'muted small' }, h('code', null, f.code), f.detail ? ` · ${f.detail}` : ''),
      ),
      h(
        'td',
        null,
        h('a', { href: `/ui/devices/${encodeURIComponent(f.deviceId)}` }, f.serial ?? f.deviceId),
        f.model ? h('div', { class: 'muted small' }, f.model) : null,
      ),
      h(
        'td',
        null,
        stateBadge(f.state),
        resolved && f.resolution
          ? h('div', { class: 'muted small' }, f.resolution === 'auto' ? 'cleared by itself' : `by ${f.resolvedByName ?? 'hand'}`)
          : null,
      ),
      h(
        'td',
        null,
        timeEl(f.openedAt),
        sortKey() === 'updated' && f.updatedAt ? h('div', { class: 'muted small' }, 'changed ', timeEl(f.updatedAt)) : null,
      ),
      h('td', null, f.assigneeName ?? (f.assigneeId ? f.assigneeId : h('span', { class: 'muted' }, 'unassigned'))),
      h(
        'td',
        null,
        h(
          'div',
          { class: 'row-actions' },
          f.state === 'open' && canTriage ? triageButton('ack', 'acknowledge', 'Acknowledge', acknowledge) : null,
          !resolved && canTriage ? triageButton('resolve', 'resolve', 'Resolve', resolve) : null,
          h(
            'button',
            {
              type: 'button',
              class: 'btn btn-small btn-quiet',
              'aria-expanded': String(isOpen),
              'aria-controls': `fd-${f.id}`,
              dataset: { focusKey: key('more'), action: 'details' },
              'aria-label': `${isOpen ? 'Hide' : 'Show'} notes and assignment for ${f.title} on ${f.serial ?? f.deviceId}`,
              onclick: () => toggle(f),
            },
            isOpen ? 'Hide notes' : 'Notes & assign',
          ),
        ),
      ),
    );
  }

  function detailRow(f) {
    let tr = details.get(f.id);
    if (!tr) {
      const notesList = h('ol', { class: 'notes' });
      const textId = `note-${f.id}`;
      const textarea = h('textarea', { id: textId, rows: 2, maxlength: 4000, required: true });
      const noteForm = oneFieldForm(ctx, NOTE_FORM, textarea, !canTriage, async (text) => {
        await api('POST', `/v1/faults/${encodeURIComponent(f.id)}/notes`, { body: { text } });
        textarea.value = '';
        ctx.announce('Note added.');
        loadNotes(f.id, notesList);
      });
      const assignId = `assign-${f.id}`;
      const assignSelect = h(
        'select',
        { id: assignId },
        h('option', { value: '' }, '— choose —'),
        h('option', { value: '__me' }, `Me (${session.me?.name ?? 'me'})`),
        h('option', { value: '__none' }, 'Nobody (unassign)'),
        people.map((u) => h('option', { value: u.id }, `${u.name} (${u.role})`)),
      );
      const assignForm = oneFieldForm(ctx, ASSIGN_FORM, assignSelect, !canTriage, async (v) => {
        const assigneeId = v === '__me' ? session.me.id : v === '__none' ? null : v;
        await api('POST', `/v1/faults/${encodeURIComponent(f.id)}/assign`, { body: { assigneeId } });
        ctx.announce(assigneeId ? 'Fault assigned.' : 'Fault unassigned.');
        ctx.toast(assigneeId ? 'Assigned.' : 'Unassigned.', 'ok');
        load();
      });
      tr = h(
        'tr',
        { class: 'fault-detail', id: `fd-${f.id}` },
        h(
          'td',
          { colspan: 7 },
          h(
            'div',
            { class: 'detail-grid' },
            h('div', null, h('h3', null, 'Notes'), notesList, noteForm),
            h('div', null, h('h3', null, 'Assignment'), assignForm),
          ),
        ),
      );
      details.set(f.id, tr);
      loadNotes(f.id, notesList);
    }
    return tr;
  }

  async function loadNotes(id, list) {
    try {
      const full = await api('GET', `/v1/faults/${encodeURIComponent(id)}`);
      replace(
        list,
        full.notes.length
          ? full.notes.map((n) =>
              h(
                'li',
                null,
                h('span', { class: 'note-meta' }, `${n.authorName ?? n.authorId ?? 'system'} · `, timeEl(n.ts)),
                h('p', null, n.text),
              ),
            )
          : h('li', { class: 'muted' }, 'No notes yet.'),
      );
    } catch (err) {
      replace(list, h('li', null, errorBox(err)));
    }
  }

  function toggle(f) {
    if (expanded.has(f.id)) expanded.delete(f.id);
    else expanded.add(f.id);
    render();
    if (expanded.has(f.id)) details.get(f.id)?.querySelector('textarea')?.focus();
  }

  async function acknowledge(f) {
    try {
      await api('POST', `/v1/faults/${encodeURIComponent(f.id)}/acknowledge`);
      ctx.announce(`Acknowledged: ${f.title} on ${f.serial ?? f.deviceId}.`);
      ctx.toast('Acknowledged.', 'ok');
      await load();
    } catch (err) {
      ctx.toast(`Acknowledge failed: ${err.message}`, 'error');
    }
  }

  async function resolve(f) {
    const noteId = `resolve-note-${f.id}`;
    const note = h('textarea', { id: noteId, rows: 3, maxlength: 4000 });
    const ok = await ctx.confirm({
      title: 'Resolve this fault?',
      body: h(
        'div',
        { class: 'form-stack' },
        h('p', null, `${f.title} on terminal ${f.serial ?? f.deviceId}. If the condition is still there, the rules open a new fault.`),
        h('label', { for: noteId }, 'Closing note (optional)'),
        note,
      ),
      confirmLabel: 'Resolve fault',
    });
    if (!ok) return;
    try {
      const text = note.value.trim();
      await api('POST', `/v1/faults/${encodeURIComponent(f.id)}/resolve`, { body: text ? { note: text } : {} });
      ctx.announce(`Resolved: ${f.title} on ${f.serial ?? f.deviceId}.`);
      ctx.toast('Resolved.', 'ok');
      await load();
    } catch (err) {
      ctx.toast(`Resolve failed: ${err.message}`, 'error');
    }
  }

  function syncUrl() {
    const params = new URLSearchParams(filters());
    if (sortSelect && sortKey() !== DEFAULT_SORT) params.set('sort', sortKey());
    history.replaceState(null, '', `/ui/faults${params.size ? `?${params}` : ''}`);
  }

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    syncUrl();
    load();
  });
  // A new order starts again at the first page (a cursor belongs to one order).
  sortSelect?.addEventListener('change', () => {
    syncUrl();
    load();
  });
  form.addEventListener('reset', () =>
    setTimeout(() => {
      if (sortSelect) sortSelect.value = DEFAULT_SORT;
      syncUrl();
      load();
    }),
  );

  load();
  const refresh = throttle(() => load(), 800);

  return {
    onEvent(name, data) {
      if (name === 'fault.opened') {
        fresh.add(data.id);
        setTimeout(() => {
          fresh.delete(data.id);
          tbody.querySelector(`tr[data-fault-id="${CSS.escape(data.id)}"]`)?.classList.remove('is-new');
        }, 6000);
        refresh();
      } else if (name === 'fault.updated' || name === 'stream.resumed') {
        if (name === 'fault.updated' && data.action === 'noted' && details.has(data.id)) {
          const list = details.get(data.id).querySelector('.notes');
          if (list) loadNotes(data.id, list);
        }
        refresh();
      }
    },
  };
}
